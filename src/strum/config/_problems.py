"""Collecting validation problems with the key path they belong to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from strum.errors import ConfigError


class Invalid(Exception):
    """Raised by a value check; the caller records the message at the value's key path."""


# Stands in for a value that was reported as invalid, so later checks neither use it nor
# report its absence a second time ("expression is missing" after "bad expression").
INVALID: object = type("Invalid", (), {"__repr__": lambda self: "INVALID"})()


@dataclass
class Problems:
    """Every problem found in one config file, in the order found, without duplicates.

    An inherited value is checked once per stage that inherits it; duplicates collapse.
    """

    source: Path
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: tuple[str, ...], message: str) -> None:
        """Record ``message`` for the key at ``path``."""
        item = (key_path(path), message)
        if item not in self.items:
            self.items.append(item)

    def raise_if_any(self) -> None:
        """Raise one ``ConfigError`` listing every problem, if there are any."""
        if not self.items:
            return
        where = display_path(self.source)
        lines = tuple(f"{where}: {key}: {message}" for key, message in self.items)
        if len(lines) == 1:
            raise ConfigError(lines[0], lines)
        header = f"the strum config in {where} has {len(lines)} problems:"
        raise ConfigError("\n".join([header, *(f"  {line}" for line in lines)]), lines)


@dataclass(frozen=True)
class Where:
    """Where a value sits: its key path, the problem list and the project it belongs to."""

    problems: Problems
    path: tuple[str, ...]
    project_dir: Path

    def at(self, *keys: str) -> Where:
        """The location of a key below this one."""
        return Where(self.problems, (*self.path, *keys), self.project_dir)

    def report(self, message: str) -> None:
        """Record a problem at this location."""
        self.problems.add(self.path, message)


def key_path(path: tuple[str, ...]) -> str:
    """Dotted TOML key path; keys that are not bare keys are quoted (``env."MY VAR"``)."""
    return ".".join(key if _bare(key) else '"' + _escape(key) + '"' for key in path) or "(top)"


def describe(value: object) -> str:
    """How a TOML value reads in a message: ``the string "512"``, ``a list``, ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date/time"


def quote(text: str) -> str:
    """``text`` as a TOML basic string."""
    return '"' + _escape(text) + '"'


def did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    """``'; did you mean "x"?'`` for the closest option, or ``""``."""
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not close:
        lowered = {option.lower(): option for option in options}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"; did you mean {quote(close[0])}?" if close else ""


def unknown_key(key: str, known: list[str] | tuple[str, ...]) -> str:
    """The message for a key strum does not know: a did-you-mean, or the known keys."""
    hint = did_you_mean(key, known)
    if hint:
        return "unknown key" + hint
    return f"unknown key; the keys here are {', '.join(sorted(known))}"


def _bare(key: str) -> bool:
    return bool(key) and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in key)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def display_path(path: Path) -> str:
    """``path`` as the user would name it: relative to the working directory if below it."""
    # Relative when below the working directory, which keeps each message line short.
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
