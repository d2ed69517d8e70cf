"""``strum dev`` on the platform: deploy, redeploy on every save, put the stage back at the end.

A ``DevSession`` remembers what the stage was before it started (``Snapshot``: its function,
its alias's version, its URL, the code and settings of ``$LATEST``), then each ``update()`` is
one ordinary deploy: the code zip is rebuilt (the dependency layer is reused while its
fingerprint is unchanged, and rebuilt when a lock or requirements file changed), ``$LATEST``
is updated, a version is published and started, and only once it initialised does the
alias move. So a save with a syntax or import error raises ``StartupFailed`` with the user's
file and line, and the previous code keeps serving.

``restore()`` puts the stage back: the alias to the version it served, the URL as it was,
``$LATEST``'s code and settings, and the versions the session published are deleted (a
function the session created is removed). ``keep()`` leaves the last good version serving and
deletes only the versions it superseded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from strum.deploy.local.client import LambdaAPIError, PlatformLambdaAPI
from strum.deploy.local.target import LocalTarget, connect
from strum.deploy.target import DeployResult, Notify, Reporter

__all__ = ["DEPENDENCY_FILES", "DevSession", "Snapshot", "touches_dependencies"]

# Files whose change means the dependencies (or the stage's config) may differ: everything is
# rebuilt and the config read again.
DEPENDENCY_FILES = frozenset(
    {
        "pyproject.toml",
        "strum.toml",
        "uv.lock",
        "poetry.lock",
        "pylock.toml",
        "Pipfile.lock",
    }
)

# $LATEST's settings a session puts back (as UpdateFunctionConfiguration takes them).
_SETTINGS = ("Runtime", "Handler", "MemorySize", "Timeout", "Description")


def touches_dependencies(names: list[str]) -> bool:
    """Whether any of the changed file names (base names) is a dependency or config file."""
    return any(
        name in DEPENDENCY_FILES
        or (name.startswith("requirements") and name.endswith(".txt"))
        or (name.startswith("pylock.") and name.endswith(".toml"))
        for name in names
    )


@dataclass
class Snapshot:
    """The stage before a session: what ``restore()`` puts back."""

    existed: bool
    alias_version: str | None = None
    url: dict[str, Any] | None = None
    latest: dict[str, Any] = field(default_factory=dict)
    latest_zip: bytes | None = None
    versions: frozenset[str] = frozenset()


def take_snapshot(api: PlatformLambdaAPI, name: str, alias: str) -> Snapshot:
    """What the platform has for ``name`` and its ``alias`` now."""
    function = api.get_function(name)
    if function is None:
        return Snapshot(existed=False)
    alias_record = api.get_alias(name, alias)
    location = (function.get("Code") or {}).get("Location")
    latest_zip = api.download_code(location) if location else None
    return Snapshot(
        existed=True,
        alias_version=alias_record["FunctionVersion"] if alias_record else None,
        url=api.get_url_config(name, alias),
        latest=function["Configuration"],
        latest_zip=latest_zip,
        versions=frozenset(str(v["Version"]) for v in api.list_versions(name)),
    )


class DevSession:
    """One ``strum dev`` run against the stage of ``target``."""

    def __init__(self, target: LocalTarget) -> None:
        self.target = target
        self.snapshot: Snapshot | None = None
        self.serving: str | None = None
        self._cached_before = {path.name for path in self._merged_zips()}

    @property
    def name(self) -> str:
        return self.target.config.function_name

    @property
    def alias(self) -> str:
        return self.target.config.stage

    def start(self, report: Reporter, notify: Notify) -> DeployResult:
        """Remember the stage as it is, then deploy it (starting the platform if needed)."""
        api = connect(self.target.home, notify)
        try:
            self.snapshot = take_snapshot(api, self.name, self.alias)
        finally:
            api.close()
        return self.update(report, notify)

    def update(
        self, report: Reporter, notify: Notify, target: LocalTarget | None = None
    ) -> DeployResult:
        """Deploy the project as it is now (with ``target``: a stage whose config was read
        again). Raises ``StartupFailed`` when the new code cannot start; the alias then still
        serves the previous version."""
        if target is not None:
            self.target = target
        result = self.target.deploy(report, notify)
        if result.version:
            self.serving = str(result.version)
        self._tidy_cache(keep_newest=True)
        return result

    def _merged_zips(self) -> list[Path]:
        """The build's cache of code-and-dependencies zips (one per code change)."""
        folder = self.target.home.root / "cache" / "functions"
        return sorted(folder.glob("*.zip"), key=lambda path: path.stat().st_mtime)

    def _tidy_cache(self, *, keep_newest: bool) -> None:
        """Delete the merged zips this session made: a save makes one of a few MB, and a
        session saves hundreds of times. The platform keeps its own copy of the code."""
        made = [path for path in self._merged_zips() if path.name not in self._cached_before]
        for path in made[:-1] if keep_newest else made:
            path.unlink(missing_ok=True)

    def restore(self, report: Reporter) -> None:
        """Put the stage back as it was before ``start()``."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        self._tidy_cache(keep_newest=False)
        name, alias = self.name, self.alias
        with self.target._platform() as api:
            if not snapshot.existed:
                with report(f"removing {name}, which `strum dev` created"):
                    _ignore_missing(api.delete_url_config, name, alias)
                    _ignore_missing(api.delete_function, name)
                return
            with report(f"putting {name}:{alias} back as it was"):
                if snapshot.alias_version is not None:
                    current = api.get_alias(name, alias)
                    if current is None:
                        api.create_alias(name, alias, snapshot.alias_version)
                    elif current["FunctionVersion"] != snapshot.alias_version:
                        api.update_alias(name, alias, snapshot.alias_version)
                else:
                    _ignore_missing(api.delete_url_config, name, alias)
                    _ignore_missing(api.delete_alias, name, alias)
                self._restore_url(api, snapshot)
                self._restore_latest(api, snapshot)
                self._delete_versions(api, snapshot.versions)

    def keep(self, report: Reporter) -> None:
        """Leave the last good version serving; delete the ones the session superseded."""
        snapshot = self.snapshot
        if snapshot is None:
            return
        self._tidy_cache(keep_newest=False)
        keep = set(snapshot.versions) | ({self.serving} if self.serving else set())
        with self.target._platform() as api, report("removing the versions `strum dev` replaced"):
            self._delete_versions(api, frozenset(keep))

    def _restore_url(self, api: PlatformLambdaAPI, snapshot: Snapshot) -> None:
        name, alias = self.name, self.alias
        if snapshot.alias_version is None:
            return
        current = api.get_url_config(name, alias)
        if snapshot.url is None:
            if current is not None:
                api.delete_url_config(name, alias)
            return
        wanted = {
            "AuthType": snapshot.url.get("AuthType") or "NONE",
            "InvokeMode": snapshot.url.get("InvokeMode") or "BUFFERED",
        }
        if current is None:
            api.create_url_config(name, alias, wanted)
        elif current.get("InvokeMode") != wanted["InvokeMode"]:
            api.update_url_config(name, alias, {"InvokeMode": wanted["InvokeMode"]})

    def _restore_latest(self, api: PlatformLambdaAPI, snapshot: Snapshot) -> None:
        name = self.name
        latest = (api.get_function(name) or {}).get("Configuration") or {}
        before = snapshot.latest
        if snapshot.latest_zip is not None and latest.get("CodeSha256") != before.get("CodeSha256"):
            api.update_function_code(name, snapshot.latest_zip)
        settings = {key: before[key] for key in _SETTINGS if key in before}
        settings["Environment"] = {
            "Variables": (before.get("Environment") or {}).get("Variables") or {}
        }
        now = {key: latest.get(key) for key in _SETTINGS if key in latest}
        now["Environment"] = {"Variables": (latest.get("Environment") or {}).get("Variables") or {}}
        if now != settings:
            api.update_function_configuration(name, settings)

    def _delete_versions(self, api: PlatformLambdaAPI, keep: frozenset[str]) -> None:
        name = self.name
        for version in api.list_versions(name):
            number = str(version["Version"])
            if number != "$LATEST" and number not in keep:
                _ignore_missing(api.delete_function, name, number)


def _ignore_missing(call: Any, *args: str) -> None:
    try:
        call(*args)
    except LambdaAPIError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
