"""Bad configs: a table of them and the one clear message each gets, all reported at once."""

from __future__ import annotations

import pytest

from strum.config import (
    ConfigError,
    load_config,
)
from tests.config.support import problems

# -- bad configs and their messages --------------------------------------------------------

BAD = [
    # unknown keys, with a did-you-mean
    ("memroy = 512", 'tool.strum.memroy: unknown key; did you mean "memory"?'),
    (
        "colour = 1",
        "tool.strum.colour: unknown key; the keys here are app, architecture, async, base_path, "
        "bucket, check, django_settings, durable, env, ephemeral_storage, events, exclude, "
        "include, lifespan, "
        "log_retention_days, memory, name, permissions, python, reserved_concurrency, "
        "schedules, snap_start, stages, stream, text_mime_types, timeout, url, volumes",
    ),
    (
        'region = "eu-west-1"',
        "tool.strum.region: region is set per stage; move it under [tool.strum.stages.<name>]",
    ),
    # numbers
    (
        "memory = 99999",
        "tool.strum.memory: 99999 MB is out of range: Lambda allows 128 to 10240 MB",
    ),
    (
        'memory = "512"',
        'tool.strum.memory: must be a number, not the string "512"; remove the quotes: '
        "memory = 512",
    ),
    (
        "memory = 512.5",
        "tool.strum.memory: must be a whole number from 128 to 10240 MB, not the number 512.5",
    ),
    (
        "timeout = 0",
        "tool.strum.timeout: 0 seconds is out of range: Lambda allows 1 to 900 seconds",
    ),
    (
        "timeout = 901",
        "tool.strum.timeout: 901 seconds is out of range: Lambda allows 1 to 900 seconds",
    ),
    (
        "ephemeral_storage = 256",
        "tool.strum.ephemeral_storage: 256 MB is out of range: Lambda allows 512 to 10240 MB",
    ),
    (
        "reserved_concurrency = -1",
        "tool.strum.reserved_concurrency: -1 is out of range: use 0 or more",
    ),
    (
        "log_retention_days = 10",
        "tool.strum.log_retention_days: CloudWatch Logs cannot keep logs for 10 days; the "
        "nearest choices are 7 or 14",
    ),
    # python and architecture
    (
        "python = 3.10",
        'tool.strum.python: must be a string, not the number 3.1; quote it, e.g. python = "3.12" '
        "(as a number, 3.10 reads as 3.1)",
    ),
    (
        'python = "3.9"',
        'tool.strum.python: "3.9" is not a Python version AWS Lambda runs; use one of "3.10", '
        '"3.11", "3.12", "3.13", "3.14"',
    ),
    ('python = "python3.12"', 'tool.strum.python: write the version alone: python = "3.12"'),
    (
        'architecture = "aarch64"',
        'tool.strum.architecture: Lambda calls it "arm64": architecture = "arm64"',
    ),
    (
        'architecture = "arm"',
        'tool.strum.architecture: must be one of "x86_64", "arm64", not the string "arm"; did '
        'you mean "arm64"?',
    ),
    # choices and booleans
    (
        'lifespan = "On"',
        'tool.strum.lifespan: must be one of "auto", "on", "off", not the string "On"; did you '
        'mean "on"?',
    ),
    (
        'stream = "true"',
        'tool.strum.stream: must be true or false, not the string "true"; remove the quotes: '
        "stream = true",
    ),
    # app strings
    (
        'app = "hello"',
        'tool.strum.app: "hello" has no ":", which means a Django settings module, but it '
        'defines "app" and no Django settings; write app = "hello:app"',
    ),
    (
        'app = "hello:ap"',
        'tool.strum.app: app "hello:ap": hello.py defines no top-level "ap"; did you mean "app"?',
    ),
    (
        'app = "hello:create_app()"',
        'tool.strum.app: app "hello:create_app()" calls something; strum needs the object '
        'itself: assign it in a module (app = create_app()) and write "hello:app"',
    ),
    (
        'app = "missing:app"',
        'tool.strum.app: app module "missing" is not in the project: there is no missing.py or '
        "missing/__init__.py under {dir}; module paths are relative to the project directory, "
        "which is what strum packages",
    ),
    (
        'app = "hello-world:app"',
        'tool.strum.app: app "hello-world:app" is not "module:attribute" with Python names on '
        "both sides",
    ),
    (
        'django_settings = "mysite.settings"',
        'tool.strum.django_settings: django_settings module "mysite.settings" is not in the '
        "project: there is no mysite/settings.py or mysite/settings/__init__.py under {dir}; "
        "module paths are relative to the project directory, which is what strum packages",
    ),
    # names
    (
        'name = "my app"',
        'tool.strum.name: "my app" cannot be part of a Lambda function name (letters, digits, '
        '"-" and "_" only); e.g. name = "my-app"',
    ),
    (
        f'name = "{"x" * 61}"',
        f'tool.strum.name: the function name "{"x" * 61}-dev" is 65 characters; Lambda allows '
        "64: set a shorter name (or stage name)",
    ),
    # env
    (
        'env = { AWS_REGION = "x" }',
        "tool.strum.env.AWS_REGION: AWS_REGION is reserved: the Lambda runtime sets it; use "
        "another name",
    ),
    (
        'env = { "MY VAR" = "x" }',
        'tool.strum.env."MY VAR": "MY VAR" is not a valid variable name for Lambda: start with '
        "a letter, then letters, digits or _ (at least 2 characters)",
    ),
    (
        "env = { DEBUG = 1 }",
        "tool.strum.env.DEBUG: environment values are strings, not the number 1; quote it: "
        'DEBUG = "1"',
    ),
    (
        "env = { DEBUG = true }",
        "tool.strum.env.DEBUG: environment values are strings, not the boolean true; quote it: "
        'DEBUG = "true"',
    ),
    (
        f'env = {{ BIG = "{"x" * 4100}" }}',
        "tool.strum.env: the variables take 4103 bytes; Lambda allows 4096 (4 KB) for all names "
        "and values together: keep large values in a file or a parameter store",
    ),
    (
        'env = "A=1"',
        'tool.strum.env: must be a table, e.g. env = { GREETING = "hi" }, not the string "A=1"',
    ),
    # lists and paths
    (
        'exclude = "docs/**"',
        'tool.strum.exclude: must be a list; put the string in brackets: exclude = ["docs/**"]',
    ),
    (
        'exclude = ["/etc"]',
        'tool.strum.exclude.0: "/etc" is an absolute path; patterns are relative to the '
        'project, e.g. "docs/**"',
    ),
    (
        'text_mime_types = ["json"]',
        'tool.strum.text_mime_types.0: "json" is not a MIME type; write type/subtype, e.g. '
        '"application/json"',
    ),
    (
        'base_path = "api"',
        'tool.strum.base_path: must be a URL path starting with "/", e.g. base_path = "/api"',
    ),
    # url without an app
    (
        "# no app\nurl = true\n[tool.strum.schedules]\n"
        'n = { function = "hello:cleanup", expression = "rate(1 day)" }',
        "tool.strum.url: url = true needs something to serve: set app, or remove url",
    ),
    # schedules
    (
        '[tool.strum.schedules]\nnightly = { function = "hello:cleanup", '
        'expression = "cron(0 3 * * * *)" }',
        "tool.strum.schedules.nightly.expression: cron(0 3 * * * *): exactly one of "
        "day-of-month (*) and day-of-week (*) must be ?, e.g. cron(0 12 * * ? *) or "
        "cron(0 12 ? * MON-FRI *)",
    ),
    (
        '[tool.strum.schedules]\nnightly = { function = "hello:cleanup", '
        'expression = "rate(1 hours)" }',
        "tool.strum.schedules.nightly.expression: rate(1 hours): a value of 1 takes a singular "
        "unit: rate(1 hour)",
    ),
    (
        '[tool.strum.schedules]\nnightly = { function = "hello:cleanup" }',
        "tool.strum.schedules.nightly: expression is missing; each schedule needs both, e.g. "
        '{ function = "jobs:cleanup", expression = "rate(1 day)" }',
    ),
    (
        '[tool.strum.schedules]\nnightly = { function = "hello:clean", expression = "rate(1 day)" }',
        'tool.strum.schedules.nightly.function: function "hello:clean": hello.py defines no '
        'top-level "clean"; did you mean "cleanup"?',
    ),
    (
        '[tool.strum.schedules]\nnightly = { function = "hello:cleanup", '
        'expression = "rate(1 day)", enable = false }',
        'tool.strum.schedules.nightly.enable: unknown key; did you mean "enabled"?',
    ),
    (
        '[tool.strum.schedules]\nnightly = "rate(1 day)"',
        'tool.strum.schedules.nightly: must be a table, not the string "rate(1 day)"; e.g. '
        'nightly = { function = "jobs:cleanup", expression = "cron(0 3 * * ? *)" }',
    ),
    # events
    (
        '[tool.strum.events]\norders = { source = "sqs", function = "hello:handle", '
        "batch_size = 20000 }",
        "tool.strum.events.orders.batch_size: 20000 is out of range: Lambda allows 1 to 10000",
    ),
    (
        '[tool.strum.events]\norders = { source = "rabbitmq", function = "hello:handle" }',
        'tool.strum.events.orders.source: must be one of "sqs", "sns", "s3", "eventbridge", '
        '"dynamodb", "kinesis", not the string "rabbitmq"',
    ),
    (
        '[tool.strum.events]\nuploads = { source = "s3", function = "hello:handle", '
        "batch_size = 5 }",
        "tool.strum.events.uploads.batch_size: batch_size applies to sqs and kinesis and "
        "dynamodb events, not s3; remove it",
    ),
    (
        '[tool.strum.events]\norders = { source = "sqs", function = "hello:handle", '
        'arn = "arn:aws:sns:eu-west-1:123456789012:topic" }',
        'tool.strum.events.orders.arn: "arn:aws:sns:eu-west-1:123456789012:topic" is not an '
        'ARN of sqs; it should start with "arn:aws:sqs:"',
    ),
    (
        '[tool.strum.events]\nbus = { source = "eventbridge", function = "hello:handle", '
        'batch = "record" }',
        'tool.strum.events.bus.batch: EventBridge events have no records; use batch = "event"',
    ),
    (
        '[tool.strum.events]\norders = { function = "hello:handle" }',
        "tool.strum.events.orders: source is missing; each event needs both, e.g. "
        '{ source = "sqs", function = "jobs:handle" }',
    ),
    # permissions (shapes only)
    (
        '[tool.strum.permissions]\nnetwork = ["api.stripe.com"]',
        'tool.strum.permissions.network.0: "api.stripe.com" should be host:port, e.g. '
        '"api.stripe.com:443" (true allows any)',
    ),
    (
        '[tool.strum.permissions]\naws = ["s3:*"]',
        'tool.strum.permissions.aws.0: "s3:*" should be "service:Action[,service:Action] '
        'resource", e.g. "s3:GetObject arn:aws:s3:::my-bucket/*"',
    ),
    (
        '[tool.strum.permissions]\nfiles = ["data"]',
        'tool.strum.permissions.files.0: "data" should be an absolute path, e.g. "/srv/data"',
    ),
    # async
    (
        "[tool.strum.async]\nretries = 3",
        "tool.strum.async.retries: 3 is out of range: Lambda allows 0 to 2",
    ),
    (
        "[tool.strum.async]\nmax_age = 30",
        "tool.strum.async.max_age: 30 seconds is out of range: Lambda allows 60 to 21600 seconds",
    ),
    (
        '[tool.strum.async]\non_failure = "arn:aws:s3:::bucket"',
        'tool.strum.async.on_failure: "arn:aws:s3:::bucket" is a s3 ARN; a destination is a '
        "function name or the ARN of a Lambda function, SQS queue, SNS topic or EventBridge bus",
    ),
    (
        '[tool.strum.async]\non_failure = "arn:aws:sqs:us-east-1:123456789012:failed"',
        "tool.strum.async.on_failure: the local platform sends records to functions only, not "
        "to arn:aws:sqs:us-east-1:123456789012:failed; name a function here, or set this "
        "destination in an AWS stage",
    ),
    (
        '[tool.strum.async]\non_success = "not a name"',
        'tool.strum.async.on_success: "not a name" is neither a function name (letters, '
        'digits, "-" and "_") nor an ARN',
    ),
    (
        "[tool.strum.async]\nretry = 1",
        'tool.strum.async.retry: unknown key; did you mean "retries"?',
    ),
    # stages
    (
        '[tool.strum.stages.prod]\ntarget = "cloud"',
        'tool.strum.stages.prod.target: must be one of "local", "aws", not the string "cloud"',
    ),
    (
        '[tool.strum.stages.prod]\ntarget = "aws"\nregion = "EU-WEST-1"',
        'tool.strum.stages.prod.region: region names are lower case: region = "eu-west-1"',
    ),
    (
        '[tool.strum.stages.prod]\nregion = "europe"',
        'tool.strum.stages.prod.region: "europe" is not an AWS region name; regions look like '
        '"eu-west-1"',
    ),
    (
        '[tool.strum.stages.prod]\nrole_arn = "my-role"',
        'tool.strum.stages.prod.role_arn: "my-role" is not an IAM role ARN; it looks like '
        '"arn:aws:iam::123456789012:role/name"',
    ),
    (
        '[tool.strum.stages.prod]\ndomain = "https://api.example.com/"',
        "tool.strum.stages.prod.domain: give the host name only, without scheme or path: "
        'domain = "api.example.com"',
    ),
    (
        'bucket = "s3://My-Artifacts/"',
        'tool.strum.bucket: "s3://My-Artifacts/" is not an S3 bucket name: 3 to 63 lower-case '
        'letters, digits, "." and "-", starting and ending with a letter or digit',
    ),
    (
        'bucket = "s3://artifacts"',
        'tool.strum.bucket: give the bucket name only: bucket = "artifacts"',
    ),
    (
        'bucket = "My-Artifacts"',
        'tool.strum.bucket: S3 bucket names are lower case: bucket = "my-artifacts"',
    ),
    (
        '[tool.strum.stages.prod]\ntarget = "aws"\ndomain = "api.example.com"',
        'tool.strum.stages.prod.domain: domain = "api.example.com" needs the HTTP API (a '
        "function URL cannot take a custom domain): add http_api = true to "
        "[tool.strum.stages.prod]",
    ),
    (
        '[tool.strum.stages."pr od"]\nmemory = 256',
        'tool.strum.stages."pr od": stage name "pr od" can only use letters, digits, "-" and "_" '
        "(it becomes the Lambda alias)",
    ),
    (
        "[tool.strum.stages.2]\nmemory = 256",
        'tool.strum.stages.2: stage name "2" cannot be only digits (Lambda would read it as a '
        "version)",
    ),
    (
        "[tool.strum.stages.prod]\nmemori = 256",
        'tool.strum.stages.prod.memori: unknown key; did you mean "memory"?',
    ),
    (
        "[tool.strum.stages.prod.stages.x]\nmemory = 256",
        "tool.strum.stages.prod.stages: stages cannot be nested; define each under "
        "[tool.strum.stages.<name>]",
    ),
    (
        '[tool.strum.stages.prod]\ntarget = "aws"\n[tool.strum.stages.prod.events.orders]\n'
        'source = "sqs"\nfunction = "hello:handle"',
        "tool.strum.stages.prod.events.orders: sqs consumers on the AWS target need the arn of "
        'their sqs resource, e.g. arn = "arn:aws:sqs:eu-west-1:123456789012:name"',
    ),
]


@pytest.mark.parametrize(("config", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_config_gives_one_clear_message(project, config, message):
    # Each config gets a valid app unless it is about the app (or about having none).
    app = "" if config.startswith(("app =", "# no app")) else 'app = "hello:app"\n'
    directory = project(f"[tool.strum]\n{app}{config}\n")
    assert problems(directory) == [f"pyproject.toml: {message.replace('{dir}', str(directory))}"]


def test_every_problem_is_reported_at_once(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        memory = 64
        timeout = "30"

        [tool.strum.stages.prod]
        memory = 99999
        colour = "blue"
        """
    )
    with pytest.raises(ConfigError) as info:
        load_config(directory, "dev")  # the other stage's problems count too
    assert str(info.value) == "\n".join(
        [
            "the strum config in pyproject.toml has 4 problems:",
            "  pyproject.toml: tool.strum.memory: 64 MB is out of range: Lambda allows 128 to "
            "10240 MB",
            '  pyproject.toml: tool.strum.timeout: must be a number, not the string "30"; '
            "remove the quotes: timeout = 30",
            "  pyproject.toml: tool.strum.stages.prod.memory: 99999 MB is out of range: Lambda "
            "allows 128 to 10240 MB",
            "  pyproject.toml: tool.strum.stages.prod.colour: unknown key; the keys here are "
            "app, architecture, async, base_path, bucket, check, django_settings, domain, durable, "
            "env, ephemeral_storage, events, exclude, http_api, include, lifespan, "
            "log_retention_days, memory, name, "
            "permissions, profile, python, region, reserved_concurrency, role_arn, schedules, "
            "snap_start, stream, target, text_mime_types, timeout, url, volumes, vpc",
        ]
    )
    assert len(info.value.problems) == 4


def test_an_inherited_problem_is_reported_once(project):
    directory = project(
        """
        [tool.strum]
        app = "hello:app"
        [tool.strum.schedules]
        nightly = { function = "hello:cleanup" }
        [tool.strum.stages.a]
        [tool.strum.stages.b]
        """
    )
    assert problems(directory) == [
        "pyproject.toml: tool.strum.schedules.nightly: expression is missing; each schedule "
        'needs both, e.g. { function = "jobs:cleanup", expression = "rate(1 day)" }'
    ]


def test_a_bad_value_does_not_cascade(project):
    # The invalid expression is reported; "expression is missing" is not added to it.
    directory = project(
        """
        [tool.strum]
        app = "nope:app"
        url = true
        [tool.strum.schedules]
        nightly = { function = "hello:cleanup", expression = "daily" }
        """
    )
    found = problems(directory)
    assert [line.split(": ")[1] for line in found] == [
        "tool.strum.app",
        "tool.strum.schedules.nightly.expression",
    ]


def test_strum_toml_paths_have_no_prefix(project):
    directory = project('app = "hello:app"\nmemory = 1\n[tool.strum]\n', file="strum.toml")
    assert problems(directory) == [
        "strum.toml: memory: 1 MB is out of range: Lambda allows 128 to 10240 MB",
        "strum.toml: tool: strum.toml takes its keys at the top level; drop the tool.strum prefix",
    ]
