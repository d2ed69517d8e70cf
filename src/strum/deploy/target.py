"""The one interface both deploy targets implement, and the little they share.

A ``Target`` serves one resolved stage (``strum.deploy.target_for`` picks it from the
config's ``target``): the local target runs it on strum's platform
(``strum.deploy.local.LocalTarget``), the AWS target on AWS Lambda
(``strum.aws.AwsTarget``). The CLI calls only what is declared here, so it never asks
which target it is talking to. Reporters and notifiers are how the library tells the CLI
about progress without printing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from strum.deploy.errors import DeployError
from strum.deploy.steps import Step

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.build import Artifact
    from strum.build import Target as BuildTarget
    from strum.config import ProjectConfig
    from strum.platform.home import Home

# ``report("building the package")`` wraps a step of work (the CLI shows a spinner and its
# duration); ``notify(message)`` says something while one runs.
Reporter = Callable[[str], AbstractContextManager[Any]]
Notify = Callable[[str], None]
# An invocation's (status, headers with lower-case names, payload); the AWS target gives
# the headers the platform's Invoke API answers with.
Invocation = tuple[int, dict[str, str], bytes]


@dataclass
class DeployResult:
    """What a deploy did: its steps (empty when nothing changed), the URL and the version."""

    function: str
    alias: str
    steps: list[Step]
    url: str | None
    version: str | None
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    # Where ``url`` is the platform's stable stage URL, the listener's own address too.
    direct_url: str | None = None
    # A dry run planned against something other than what is deployed: what, and why.
    plan_basis: str | None = None


@dataclass(frozen=True)
class Upload:
    """One zip a deploy sends, when it is not the build's own (``strum package`` reports it)."""

    kind: str  # "code": the function's code | "layer": dependencies and strum's runtime
    path: Path
    size: int
    via_s3: bool  # over Lambda's direct upload limit: staged in S3 first


@dataclass(frozen=True)
class Packaged:
    """What ``Target.package`` built: the artifact and, where the target re-packs it for
    upload, the zips a deploy sends instead (None: it sends the build's own)."""

    build_target: BuildTarget
    artifact: Artifact
    uploads: tuple[Upload, ...] | None = None


class LogTail(Protocol):
    """A stage's log, polled: each entry has ``time`` (epoch seconds) and ``message``."""

    def poll(self, now: float) -> list[dict[str, Any]]:
        """The entries not returned before; ``now`` is the caller's clock."""

    def pause(self, entries: list[dict[str, Any]]) -> float:
        """Seconds to wait before the next poll, after one that returned ``entries``."""


class DeadLetters(Protocol):
    """A stage's asynchronous events that exhausted their retries."""

    def letters(self, request_ids: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The dead letters (all, or those named), oldest first, payloads as text."""

    def redrive(self, request_ids: tuple[str, ...] = ()) -> list[str]:
        """Queue them again; the request ids queued."""

    def discard(self, request_ids: tuple[str, ...] = ()) -> int:
        """Delete them for good; how many."""


class Target(Protocol):
    """Where one stage runs: every operation the CLI asks of a deploy target."""

    config: ProjectConfig

    def package(self, output: Path | None, report: Reporter) -> Packaged:
        """Build the stage's packages without deploying; zips copied to ``output`` if given."""

    def deploy(self, report: Reporter, notify: Notify, *, dry_run: bool = False) -> DeployResult:
        """Package -> plan -> execute; idempotent. With ``dry_run`` the plan only."""

    def status(self) -> dict[str, Any]:
        """The stage as deployed; ``deployed`` is False when there is nothing."""

    def invoke(self, payload: bytes, *, asynchronous: bool = False) -> Invocation:
        """Invoke the stage's alias with ``payload``."""

    def logs(self, since: float, *, text: str | None = None) -> LogTail:
        """The stage's function log from ``since`` (epoch seconds) on; with ``text``, only
        the lines containing it (case-sensitive, as CloudWatch's quoted terms match)."""

    def rollback(self, steps_back: int, report: Reporter) -> tuple[str, str]:
        """Point the alias ``steps_back`` published versions back; (from, to)."""

    def undeploy(self, report: Reporter, *, purge_logs: bool = False) -> bool:
        """Remove what the stage's deploys created; False when nothing was there."""

    def manage(self, args: list[str]) -> dict[str, Any]:
        """Run a Django management command in the deployed function: output, exit code."""

    def dead_letters(self) -> DeadLetters:
        """The stage's dead letters (``UnsupportedOnTarget`` where there are none)."""

    def executions(self) -> list[dict[str, Any]]:
        """The stage's durable executions, newest first (ListDurableExecutionsByFunction)."""


# -- what the targets share ---------------------------------------------------------------


def build_stage(
    config: ProjectConfig,
    build_target: BuildTarget,
    home: Home,
    report: Reporter,
    out_dir: Path | None = None,
) -> Artifact:
    """Build the stage's package for ``build_target`` (``strum package``'s step)."""
    from strum.build import build
    from strum.deploy.stage import package_spec

    spec = package_spec(config, build_target, home, out_dir)
    with report(f"packaging {config.function_name} for {build_target.key}"):
        return build(spec)


def rollback_version(
    function: str, stage: str, serving: str, published: list[str], steps_back: int
) -> str:
    """The published version ``steps_back`` before ``serving``; an error if there is none."""
    numbered = sorted(int(version) for version in published if version.isdigit())
    older = [version for version in numbered if serving.isdigit() and version < int(serving)]
    if len(older) < steps_back:
        raise DeployError(
            f"{function}:{stage} serves version {serving}; there are only {len(older)} older "
            "version(s) to roll back to"
        )
    return str(older[-steps_back])


def move_alias_back(
    function: str,
    stage: str,
    serving: str,
    target: str,
    *,
    configuration: dict[str, Any],
    url_mode: str | None,
    move_alias: Callable[[], object],
    set_url_mode: Callable[[str], object],
    report: Reporter,
) -> None:
    """A rollback's one step on either target: the alias moves to ``target`` and the
    function URL (whose mode is ``url_mode``, None without one) takes the invoke mode the
    version was built for (``configuration`` is the version's). A BUFFERED URL changes
    before the alias moves, a RESPONSE_STREAM one after: between the two calls a request
    gets a 502, never a buffered version's envelope served raw as a 200."""
    from strum.deploy.stage import version_invoke_mode

    mode = version_invoke_mode(configuration)
    change = url_mode is not None and url_mode != mode

    def switch() -> None:
        with report(f"switching the function URL of {function}:{stage} to {mode}"):
            set_url_mode(mode)

    if change and mode == "BUFFERED":
        switch()
    with report(f"moving alias {stage} from version {serving} to {target}"):
        move_alias()
    if change and mode != "BUFFERED":
        switch()


def manage_command(target: Target, args: list[str]) -> dict[str, Any]:
    """``Target.manage`` on top of ``Target.invoke``: the router runs the command."""
    payload = json.dumps({"strum": "manage", "args": args}).encode()
    _, headers, body = target.invoke(payload)
    if headers.get("x-amz-function-error"):
        error = json.loads(body)
        raise DeployError(
            f"manage {' '.join(args)} failed: {error.get('errorType')}: {error.get('errorMessage')}"
        )
    result: dict[str, Any] = json.loads(body)
    return result
