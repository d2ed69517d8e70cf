"""strum.redact: which names hold secrets, and masking them in mappings, text and logs."""

from __future__ import annotations

import io
import logging

import pytest

from strum.redact import (
    MASK,
    SecretFilter,
    install_filter,
    looks_secret,
    redact_mapping,
    redact_text,
    secret_values,
)
from tests.test_imports import modules_imported_by


@pytest.mark.parametrize(
    "name",
    [
        "STRIPE_SECRET_KEY",
        "SECRET_KEY",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "STRUM_PLATFORM_TOKEN",
        "OPENAI_API_KEY",
        "SENDGRID_APIKEY",
        "DB_PASSWORD",
        "PGPASSWORD",
        "REDIS_PASSWD",
        "SMTP_PASS",
        "MYSQL_PWD",
        "JWT_PRIVATE_KEY",
        "FERNET_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "BASIC_AUTH",
        "AUTH_TOKEN",
        "DATABASE_URL",
        "DB_URI",
        "SENTRY_DSN",
        "SLACK_WEBHOOK_URL",
        "AZURE_CONNECTION_STRING",
        "HASHID_SALT",
        "stripeSecretKey",
        "apiKey",
    ],
)
def test_names_that_hold_secrets(name):
    assert looks_secret(name)


@pytest.mark.parametrize(
    "name",
    [
        "AUTHOR",
        "AUTHOR_EMAIL",
        "MAX_TOKENS",
        "TOKENIZERS_PARALLELISM",
        "PWD",
        "OLDPWD",
        "PASSENGER_COUNT",
        "BYPASS_CACHE",
        "PUBLIC_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "PRIMARY_KEY",
        "CACHE_KEY",
        "KEYBOARD_LAYOUT",
        "GREETING",
        "REDIS_URL",
        "LOG_LEVEL",
        "XAUTHORITY",
    ],
)
def test_names_that_do_not(name):
    assert not looks_secret(name)


def test_a_mapping_for_display_masks_secret_names_and_url_passwords():
    env = {
        "STRIPE_SECRET_KEY": "sk_live_xyz",
        "DATABASE_URL": "postgres://app:pw@db/shop",
        "REDIS_URL": "redis://:hunter22@cache:6379/0",
        "GREETING": "hi",
    }
    assert redact_mapping(env) == {
        "STRIPE_SECRET_KEY": MASK,
        "DATABASE_URL": MASK,
        "REDIS_URL": "redis://:***@cache:6379/0",
        "GREETING": "hi",
    }
    assert env["STRIPE_SECRET_KEY"] == "sk_live_xyz"  # a copy, never the original


def test_secret_values_skip_values_too_common_to_scrub():
    env = {
        "API_TOKEN": "abcdef123",
        "AUTH_ENABLED": "true",
        "DB_PASS": "",
        "MQ": "amqp://u:pw42@mq/",
    }
    assert secret_values(env) == ["abcdef123", "pw42"]


def test_text_is_masked_longest_secret_first():
    text = "key=sk_live_xyz_long, also sk_live_xyz, true, at postgres://app:s3cret@db:5432/shop"
    assert redact_text(text, ["sk_live_xyz", "sk_live_xyz_long", "true", ""]) == (
        "key=***, also ***, true, at postgres://app:***@db:5432/shop"
    )
    assert redact_text("git clone ssh://git@example.com/repo", []) == (
        "git clone ssh://git@example.com/repo"
    )


@pytest.fixture
def log():
    """A real logger writing to a string through a handler that carries a SecretFilter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    secret_filter = SecretFilter(["sk_live_xyz"])
    handler.addFilter(secret_filter)
    logger = logging.getLogger("tests.redact")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, stream, secret_filter
    logger.removeHandler(handler)


def test_the_filter_masks_messages_after_their_arguments_are_applied(log):
    logger, stream, _ = log
    logger.info("configured %s with %r", "shop", {"STRIPE_SECRET_KEY": "sk_live_xyz"})
    logging.getLogger("tests.redact.child").warning("key %s", "sk_live_xyz")  # propagated
    assert stream.getvalue() == (
        "tests.redact: configured shop with {'STRIPE_SECRET_KEY': '***'}\n"
        "tests.redact.child: key ***\n"
    )


def test_the_filter_masks_tracebacks_and_learns_new_values(log):
    logger, stream, secret_filter = log
    secret_filter.add(["whsec_later", "true"])
    try:
        raise ValueError("bad key sk_live_xyz and whsec_later")
    except ValueError:
        logger.exception("deploy failed")
    logger.info("stack", stack_info=True)
    logger.info("debug is %s", "true")
    printed = stream.getvalue()
    assert "ValueError: bad key *** and ***" in printed
    assert "sk_live_xyz" not in printed
    assert "whsec_later" not in printed
    assert printed.endswith("debug is true\n")  # too common to scrub


def test_a_malformed_log_call_is_left_to_the_handler():
    # Raising from a filter would crash the code that logged; the handler's handleError
    # reports the bad call instead, as it does without the filter.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "two %s %s", ("sk_live_xyz",), None)
    assert SecretFilter(["sk_live_xyz"]).filter(record) is True
    assert (record.msg, record.args) == ("two %s %s", ("sk_live_xyz",))


def test_install_filter_attaches_to_each_handler_once():
    logger = logging.getLogger("tests.redact.install")
    handlers = [logging.StreamHandler(io.StringIO()), logging.StreamHandler(io.StringIO())]
    for handler in handlers:
        logger.addHandler(handler)
    secret_filter = SecretFilter()
    install_filter(secret_filter, logger)
    install_filter(secret_filter, logger)
    assert [handler.filters for handler in handlers] == [[secret_filter], [secret_filter]]
    for handler in handlers:
        logger.removeHandler(handler)


def test_the_cli_pays_for_redaction_only_when_it_prints():
    # `strum --help` imports strum.cli; logging (which redact needs) would add ~7 ms to it.
    imported = modules_imported_by("import strum.cli")
    assert "strum.redact" not in imported
    assert "logging" not in imported
