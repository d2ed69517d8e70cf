"""The stable host of a stage on a platform: ``<stage>.<project>.localhost``. Pure.

Browsers and curl resolve every ``*.localhost`` name to loopback (RFC 6761, section 6.3), so
``http://dev.shop.localhost:8700/`` reaches the platform on its own port with that ``Host``,
and the platform serves it as the function URL of ``shop-dev:dev`` (``urls.hosts``). Kept
apart from ``urls`` so the CLI can name the URL without loading the HTTP server.
"""

from __future__ import annotations

__all__ = ["LOOPBACK_HOSTS", "stage_from_host", "stage_url"]

_SUFFIX = ".localhost"
# Where a platform's stage hosts resolve: it listens on loopback (or on every address).
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost", "::1", "", "0.0.0.0", "::"))


def stage_url(project: str, stage: str, port: int, scheme: str = "http") -> str:
    """The stable URL of ``stage`` of ``project`` on a platform at ``port``."""
    return f"{scheme}://{stage.lower()}.{project.lower()}{_SUFFIX}:{port}/"


def stage_from_host(host: str) -> tuple[str, str] | None:
    """``(stage, project)`` from a ``Host`` of the form ``<stage>.<project>.localhost[:port]``,
    lower-cased (host names are case-insensitive); None for any other host."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    if not name.endswith(_SUFFIX):
        return None
    labels = name[: -len(_SUFFIX)].split(".")
    if len(labels) != 2 or not all(labels):
        return None
    return labels[0], labels[1]
