"""Keeping secret values out of everything strum prints or logs.

A value is secret when its variable's name says so (``STRIPE_SECRET_KEY``,
``DATABASE_URL``, ``GITHUB_TOKEN``...) or when it is a URL with a password in it
(``redis://:hunter2@cache:6379``). Functions still receive the real values; only what strum
shows people - CLI output, plans, errors, the platform's log - is redacted, to ``***``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

MASK = "***"

# Matched against the upper-cased name. Substrings that only ever mean a secret, then
# whole words ("_"-separated) that would be false alarms as substrings: AUTHOR is not
# AUTH, MAX_TOKENS and TOKENIZERS_PARALLELISM are not TOKEN, PASSENGER is not PASS.
# A trailing KEY is a secret unless it names a public or structural key. Patterns are
# compiled on first use (and cached by re): importing this module does no work.
_SECRET_NAME = (
    r"SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY"
    r"|SESSION_?KEY|SIGNING_?KEY|ENCRYPTION_?KEY|MASTER_?KEY|WEBHOOK|CONNECTION_?STRING"
    r"|(?:^|_)(?:[A-Z0-9]*TOKEN|AUTH|OAUTH|AUTHORIZATION|PWD|PASS|CREDS|DSN|SALT)(?:_|$)"
    r"|(?:^|_)(?:DATABASE|DB)_UR[LI]$"
    r"|(?:^|(?<!PUBLIC)(?<!PUBLISHABLE)(?<!PRIMARY)(?<!PARTITION)(?<!SORT)(?<!HASH)"
    r"(?<!RANGE)(?<!CACHE)(?<!ROUTING)_)KEY$"
)
# scheme://user:password@host - the password is group 1.
_URL_PASSWORD = r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:([^\s/@]+)@"
# Values too common to scrub out of every line they appear in; a name that looks secret
# still masks them in a mapping.
_TRIVIAL = frozenset({"", "0", "1", "true", "false", "yes", "no", "on", "off", "none", "null"})
_MIN_SCRUBBED = 4
# Not secrets whatever the pattern says: the shell's working directories.
_NOT_SECRET = frozenset({"PWD", "OLDPWD"})


def looks_secret(name: str) -> bool:
    """Whether a variable called ``name`` probably holds a secret."""
    upper = name.upper()
    return upper not in _NOT_SECRET and re.search(_SECRET_NAME, upper) is not None


def redact_mapping(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` for display: values of secret-looking names become ``***``, and so do the
    passwords inside URL values (``postgres://app:***@db/shop``)."""
    return {
        name: MASK if looks_secret(name) else re.sub(_URL_PASSWORD, _mask_password, value)
        for name, value in env.items()
    }


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values of ``env`` that must never be shown: those of secret-looking names and the
    passwords inside URLs."""
    values = [value for name, value in env.items() if looks_secret(name)]
    values += [
        match.group(1) for value in env.values() for match in re.finditer(_URL_PASSWORD, value)
    ]
    return [value for value in values if _scrubbable(value)]


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``secrets``, and any URL password, masked."""
    # Longest first, so a secret that contains another is masked whole.
    for secret in sorted({s for s in secrets if _scrubbable(s)}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return re.sub(_URL_PASSWORD, _mask_password, text)


class SecretFilter(logging.Filter):
    """A logging filter that masks known secret values (and URL passwords) in records.

    Attach it to handlers, not loggers: a logger's filters do not see records propagated
    from its children. ``add`` teaches it values found later (a stage's config, say).
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        super().__init__()
        self.values: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        """Mask ``values`` from now on too."""
        self.values.update(value for value in values if _scrubbable(value))

    def redact(self, text: str) -> str:
        """``text`` as this filter would let it through."""
        return redact_text(text, self.values)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler's handleError
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: format the traceback once, masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_filter(secret_filter: SecretFilter, logger: logging.Logger | None = None) -> None:
    """Attach ``secret_filter`` to every handler of ``logger`` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if secret_filter not in handler.filters:
            handler.addFilter(secret_filter)


def _scrubbable(value: str) -> bool:
    return len(value) >= _MIN_SCRUBBED and value.lower() not in _TRIVIAL


def _mask_password(match: re.Match[str]) -> str:
    start, end = match.span(1)
    whole = match.group(0)
    return whole[: start - match.start()] + MASK + whole[end - match.start() :]
