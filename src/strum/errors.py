"""The exceptions strum raises, all under one base.

The tree, kept short on purpose::

    StrumError                  anything strum itself reports; carries an exit code
    ├── EventError              a Lambda event the HTTP adapter cannot serve
    │   ├── UnsupportedEvent    not an HTTP event (SQS, schedule, ...): names the source
    │   └── InvalidEvent        an HTTP event with missing keys, wrong types or bad base64
    ├── AppError                the user's app broke a contract (ASGI lifespan, interface)
    └── ConfigError             the project's strum config is missing, unreadable or invalid

Messages say what went wrong, where, and what to do next. This module is imported by the
code that ships inside functions, so it stays standard-library only and cheap to import.
"""

from __future__ import annotations


class StrumError(Exception):
    """Base of every error strum raises on purpose.

    ``exit_code`` is what the CLI exits with when this error reaches it; library code never
    exits by itself.
    """

    exit_code = 1


class EventError(StrumError):
    """A Lambda event that the HTTP adapter cannot turn into a request."""

    exit_code = 2


class UnsupportedEvent(EventError):
    """The event is not one of the HTTP event kinds (it came from SQS, a schedule, ...)."""


class InvalidEvent(EventError):
    """The event looks like an HTTP event of a known kind but is malformed."""


class AppError(StrumError):
    """The wrapped app does not honour the WSGI/ASGI contract strum relies on."""

    exit_code = 3


class ConfigError(StrumError):
    """The project's strum config (``[tool.strum]`` or ``strum.toml``) cannot be used.

    ``problems`` holds one line per problem, each naming the file, the key and the fix;
    validation collects them all before raising, so one run shows everything to correct.
    """

    exit_code = 2

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)
