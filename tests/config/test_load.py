"""Config loading: defaults, every key, stage inheritance and which file is read."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from strum.config import (
    AsyncInvocation,
    ConfigError,
    EventSource,
    Permissions,
    ProjectConfig,
    Schedule,
    StageConfig,
    load_config,
)
from strum.errors import StrumError
from tests.config.support import APP

# -- valid configs ------------------------------------------------------------------------


def test_minimal_config_gets_the_defaults(project):
    config = load_config(project('[tool.strum]\napp = "hello:app"\n'))
    assert isinstance(config, ProjectConfig)
    assert config.stage == "dev"
    assert config.target == "local"
    assert config.project == "hello"
    assert config.function_name == "hello-dev"
    assert config.app == "hello:app"
    assert config.django_settings is None
    assert config.python == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert (config.architecture, config.memory, config.timeout) == ("x86_64", 512, 30)
    assert config.ephemeral_storage == 512
    assert config.url is True
    assert config.lifespan == "auto"
    assert config.stream is False
    assert dict(config.env) == {}
    assert config.permissions == Permissions()
    assert config.source.name == "pyproject.toml"
    assert list(config.stages) == ["dev"]


def test_every_key_is_read(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        name = "greeter"
        python = "3.12"
        architecture = "arm64"
        memory = 1024
        timeout = 60
        ephemeral_storage = 2048
        env = { GREETING = "hi" }
        exclude = ["docs/**"]
        include = ["docs/keep.txt"]
        text_mime_types = ["application/vnd.api+json"]
        base_path = "/api/"
        lifespan = "off"
        stream = true
        reserved_concurrency = 5
        url = false
        log_retention_days = 14

        [tool.strum.permissions]
        network = ["api.stripe.com:443"]
        env = ["DATABASE_URL"]
        files = ["/srv/data"]
        aws = ["s3:GetObject,s3:PutObject arn:aws:s3:::bucket/*"]

        [tool.strum.schedules.nightly]
        function = "hello:cleanup"
        expression = "cron(0 3 * * ? *)"

        [tool.strum.events.orders]
        source = "sqs"
        function = "hello:handle"
        arn = "arn:aws:sqs:eu-west-1:123456789012:orders"
        batch = "record"
        batch_size = 10
        batch_window = 5

        [tool.strum.stages.prod]
        target = "aws"
        region = "eu-west-1"
        profile = "work"
        role_arn = "arn:aws:iam::123456789012:role/greeter"
        http_api = true
        domain = "API.example.com"
        """
    )
    config = load_config(directory, "prod")
    assert config.function_name == "greeter-prod"
    assert (config.python, config.architecture) == ("3.12", "arm64")
    assert (config.memory, config.timeout, config.ephemeral_storage) == (1024, 60, 2048)
    assert dict(config.env) == {"GREETING": "hi"}
    assert config.exclude == ("docs/**",)
    assert config.include == ("docs/keep.txt",)
    assert config.text_mime_types == ("application/vnd.api+json",)
    assert config.base_path == "/api"
    assert (config.lifespan, config.stream, config.url) == ("off", True, False)
    assert (config.reserved_concurrency, config.log_retention_days) == (5, 14)
    assert config.permissions == Permissions(
        network=("api.stripe.com:443",),
        env=("DATABASE_URL",),
        files=("/srv/data",),
        aws=("s3:GetObject,s3:PutObject arn:aws:s3:::bucket/*",),
    )
    assert dict(config.schedules) == {
        "nightly": Schedule("nightly", "hello:cleanup", "cron(0 3 * * ? *)")
    }
    assert dict(config.events) == {
        "orders": EventSource(
            name="orders",
            source="sqs",
            function="hello:handle",
            arn="arn:aws:sqs:eu-west-1:123456789012:orders",
            batch="record",
            batch_size=10,
            batch_window=5,
        )
    }
    assert (config.target, config.region, config.profile) == ("aws", "eu-west-1", "work")
    assert config.role_arn == "arn:aws:iam::123456789012:role/greeter"
    assert (config.http_api, config.domain) == (True, "api.example.com")


def test_stages_inherit_and_override(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        memory = 256
        env = { GREETING = "hi", MODE = "dev" }
        permissions = { network = false, env = ["HOME_DIR"] }

        [tool.strum.schedules]
        nightly = { function = "hello:cleanup", expression = "cron(0 3 * * ? *)" }

        [tool.strum.stages.staging]

        [tool.strum.stages.prod]
        target = "aws"
        memory = 1024
        env = { MODE = "prod", EXTRA = "1" }
        permissions = { network = true }
        exclude = ["big/**"]

        [tool.strum.stages.prod.schedules.nightly]
        enabled = false
        """
    )
    prod = load_config(directory, "prod")
    assert prod.memory == 1024
    assert dict(prod.env) == {"GREETING": "hi", "MODE": "prod", "EXTRA": "1"}
    assert prod.permissions == Permissions(network=True, env=("HOME_DIR",))
    assert prod.schedules["nightly"] == Schedule(
        "nightly", "hello:cleanup", "cron(0 3 * * ? *)", enabled=False
    )
    assert prod.exclude == ("big/**",)

    staging = load_config(directory, "staging")
    assert (staging.memory, staging.target, staging.function_name) == (
        256,
        "local",
        "hello-staging",
    )
    assert dict(staging.env) == {"GREETING": "hi", "MODE": "dev"}
    assert staging.schedules["nightly"].enabled is True

    # dev exists without being declared, and every stage is resolved in .stages
    dev = load_config(directory)
    assert dev.stage == "dev"
    assert list(dev.stages) == ["dev", "staging", "prod"]
    assert isinstance(dev.stages["prod"], StageConfig)
    assert dev.stages["prod"].memory == 1024
    assert dev.stages["prod"] == _stage_part(prod)


def _stage_part(config: ProjectConfig) -> StageConfig:
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(StageConfig)}
    return StageConfig(**values)


def test_config_is_frozen(project):
    config = load_config(project('[tool.strum]\napp = "hello:app"\n'))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.memory = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.env["X"] = "1"  # type: ignore[index]


def test_strum_toml_takes_the_same_keys_at_the_top_level(project):
    directory = project(
        """
        app = "hello:app"
        memory = 1024

        [stages.prod]
        target = "aws"
        """,
        file="strum.toml",
    )
    config = load_config(directory, "prod")
    assert config.source.name == "strum.toml"
    assert (config.memory, config.target) == (1024, "aws")


def test_strum_toml_uses_the_pyproject_name(project, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My Service!"\n')
    config = load_config(project('app = "hello:app"\n', file="strum.toml"))
    assert config.project == "My-Service"


def test_name_defaults_to_the_directory(project, tmp_path):
    directory = tmp_path / "my.site"
    directory.mkdir()
    (directory / "hello.py").write_text(APP)
    (directory / "strum.toml").write_text('app = "hello:app"\n')
    assert load_config(directory).function_name == "my-site-dev"


def test_django_settings_in_app(project, tmp_path):
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite" / "__init__.py").write_text("")
    (tmp_path / "mysite" / "settings.py").write_text("SECRET_KEY = 'x'\nINSTALLED_APPS = []\n")
    config = load_config(project('[tool.strum]\napp = "mysite.settings"\n'))
    assert (config.app, config.django_settings, config.url) == (None, "mysite.settings", True)


def test_no_app_means_no_url(project):
    directory = project(
        """
        [tool.strum.schedules]
        nightly = { function = "hello:cleanup", expression = "rate(1 day)" }
        """
    )
    config = load_config(directory)
    assert (config.app, config.url) == (None, False)


def test_async_settings_merge_key_by_key(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        [tool.strum.async]
        retries = 0
        on_failure = "hello-failures"
        [tool.strum.stages.prod]
        target = "aws"
        region = "eu-west-1"
        [tool.strum.stages.prod.async]
        max_age = 3600
        on_failure = "arn:aws:sqs:eu-west-1:123456789012:failed"
        """
    )
    assert load_config(directory).async_invocation == AsyncInvocation(
        retries=0, on_failure="hello-failures"
    )
    assert load_config(directory, "prod").async_invocation == AsyncInvocation(
        retries=0, max_age=3600, on_failure="arn:aws:sqs:eu-west-1:123456789012:failed"
    )


def test_event_defaults_follow_the_source(project):
    # Lambda's own shape by default, for every source: the handler gets event["Records"].
    directory = project(
        """
        [tool.strum.events]
        stream = { source = "kinesis", function = "hello:handle" }
        bus = { source = "eventbridge", function = "hello:handle" }
        """
    )
    events = load_config(directory).events
    assert (events["stream"].batch, events["stream"].starting_position) == ("event", "LATEST")
    assert (events["bus"].batch, events["bus"].starting_position) == ("event", None)


# -- which file ---------------------------------------------------------------------------


def test_both_files_is_an_error_saying_which_to_keep(project, tmp_path):
    (tmp_path / "strum.toml").write_text('app = "hello:app"\n')
    directory = project('[tool.strum]\napp = "hello:app"\n')
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert str(info.value) == (
        f"{tmp_path / 'pyproject.toml'} has a [tool.strum] table and {tmp_path / 'strum.toml'} "
        "exists too; strum reads one: keep [tool.strum] and delete strum.toml, or move the "
        "settings into strum.toml (keys at its top level) and delete [tool.strum]"
    )


def test_no_config_says_how_to_make_one(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert str(info.value) == (
        f"no strum config in {tmp_path}: add a [tool.strum] table to pyproject.toml or create "
        "strum.toml (`strum init` writes one for the app it finds)"
    )
    assert info.value.exit_code == 2
    assert isinstance(info.value, StrumError)


def test_broken_toml_names_the_place(project, tmp_path):
    directory = project("[tool.strum\napp = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(directory)
    assert str(info.value).startswith(f"{tmp_path / 'pyproject.toml'} is not valid TOML: ")
    assert "line 4" in str(info.value)


def test_unknown_stage_suggests_the_closest(project):
    directory = project('[tool.strum]\napp = "hello:app"\n[tool.strum.stages.prod]\n')
    with pytest.raises(ConfigError) as info:
        load_config(directory, "prdo")
    assert str(info.value) == (
        'stage "prdo" is not defined in pyproject.toml; did you mean "prod"? (the stages are '
        "dev, prod)"
    )
    with pytest.raises(ConfigError) as info:
        load_config(directory, "qa")
    assert str(info.value) == (
        'stage "qa" is not defined in pyproject.toml; the stages are dev, prod: add '
        "[tool.strum.stages.qa] to create it"
    )
