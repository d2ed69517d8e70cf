"""Templates: one initialised process per Python function version, forked into instances.

The platform's answer to SnapStart. A template is started like an instance (same
sandbox, cgroup, uid and environment) but runs ``strum.runtime._zygote``: it imports the
handler, runs the before-snapshot hooks, reports ready and then only forks. Each fork
makes a user namespace of its own and, inside it, its own mount (a sized tmpfs on
``/tmp``), PID (its own ``/proc``), IPC and - for a function without network - network
namespace, drops every capability, installs the instance's full seccomp filter and joins
a memory cgroup of its own. So an instance from a template is isolated as one started
the old way; its cold start costs a fork instead of an interpreter and the app's imports.

One *spare* fork per template is kept ready (namespaces made, cgroup joined, listener
bound), so a cold start only hands it its environment and its stdout/stderr. The
template never serves a request. Its instances live in its PID namespace: when a
template dies (``kill -9``) they die with it, and the next cold start starts a new
template. A code or configuration change retires a template; it is stopped once its last
instance has gone. A template whose init fails keeps the error (``status``) and cold
starts of that version take the old path, which reports the failure exactly as before.
Custom runtimes, and machines where a fork cannot make its namespaces, keep the old path.

A version's *first* cold start takes the old path too, and its template starts at the
second (``Settings.cold_starts_before_template``): most versions a deploy publishes see exactly one cold start (the deploy's own
start check, then a warm instance), and a template started for it would only be a second
interpreter to run the app's init in (measured with ``bench/deploy.py``: 100 code-only
deploys took 42.9 s with a template for every new version, 22.6 s without). A version
that needs a second instance - a scale-out, a cold start after an idle timeout - is one
whose cold starts will go on, and from then on they fork.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from strum.platform.engine.instances import ForkedProcess, Instance, InstanceEvents
from strum.platform.engine.launch import Launcher
from strum.platform.engine.runtime_api import RuntimeAPI
from strum.platform.engine.template import Template
from strum.platform.errors import PlatformError
from strum.platform.settings import Settings
from strum.platform.spec import FunctionSpec

logger = logging.getLogger(__name__)

# How many versions' early cold starts are counted (a few hundred bytes each).
_VERSIONS_KEPT = 10_000

# AWS bounds a SnapStart restore plus its after-restore hooks by 10 seconds.
# https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks.html
RESTORE_TIMEOUT_S = 10.0
# Session credentials last 12 hours and an instance is not reused after 11
# (``engine.MAX_INSTANCE_AGE_S``, counted for a fork from its template's start, whose init
# may have kept credentials): a template older than this is replaced at the next cold start.
TEMPLATE_MAX_AGE_S = 5 * 3600


class SnapStartError(PlatformError):
    """An Invoke API error of SnapStart's (``SnapStartException`` 400,
    ``SnapStartTimeoutException`` 408), raised instead of the function's result."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


def restore_timed_out() -> tuple[int, str, str]:
    """The ``service_error`` of an instance that did not restore within 10 s."""
    return (
        408,
        "SnapStartTimeoutException",
        "Lambda couldn't restore the snapshot within the timeout limit.",
    )


class Templates:
    """The templates of one engine: which functions get one, starting, forking, retiring."""

    def __init__(
        self,
        launcher: Launcher,
        runtime_api: RuntimeAPI,
        settings: Settings,
        output: Callable[[FunctionSpec, str, str], None],
    ) -> None:
        self.launcher = launcher
        self.runtime_api = runtime_api
        self.settings = settings
        self._output = output
        self._templates: dict[tuple[str, str, str, str], Template] = {}
        # Cold starts each version had the old way before its template (bounded: the oldest
        # versions are forgotten first).
        self._old_starts: collections.OrderedDict[tuple[str, str, str, str], int] = (
            collections.OrderedDict()
        )
        self._retired: set[Template] = set()
        self._ids = itertools.count()
        self.unsupported: str | None = None  # why no cold start forks here, if so
        self.restore_timeout_s = RESTORE_TIMEOUT_S

    def reason(self) -> str | None:
        """Why cold starts start a new interpreter on this platform (None: they fork)."""
        if not self.settings.templates:
            return "turned off (settings.templates)"
        caps = self.launcher.sandbox
        if caps.bwrap is None:
            return (
                "no sandbox (bubblewrap) to give each fork its own /tmp and PID view: "
                "cold starts start a new interpreter"
            )
        if caps.run_as is None:
            return (
                "the sandbox runs as the platform's uid, whose root a fork's fresh /proc "
                "would expose: cold starts start a new interpreter"
            )
        return self.unsupported

    def eligible(self, spec: FunctionSpec) -> bool:
        """Whether ``spec``'s cold starts fork a template (Python, sandboxed, supported).

        Declared ``files`` under /tmp keep the old path: a fork's own /tmp would cover them.
        """
        if any(path == "/tmp" or path.startswith("/tmp/") for path in spec.files):
            return False
        return spec.runtime.startswith("python") and self.reason() is None

    async def instance(
        self, spec: FunctionSpec, ident: str, events: InstanceEvents, *, provisioned: bool
    ) -> Instance | None:
        """A new instance of ``spec`` forked from its template (started and initialised
        first if need be); None when the old path must start it (init failed, ...)."""
        template = self._templates.get(spec.instance_key)
        if template is not None and template.state == "failed":
            return None  # its init failed: the old path reports that failure as before
        if template is not None and time.perf_counter() - template.started_at > TEMPLATE_MAX_AGE_S:
            self.retire_template(template)
            template = None
        if template is None:
            done = self._old_starts.get(spec.instance_key, 0)
            if done < self.settings.cold_starts_before_template:
                self._old_starts[spec.instance_key] = done + 1
                while len(self._old_starts) > _VERSIONS_KEPT:
                    self._old_starts.popitem(last=False)
                return None  # an early cold start of this version: the old path (see module)
        if template is None or not template.alive:
            template = await self._start(spec)
            if template is None:
                return None
        try:
            # Bounded: an init that hangs must not hang every cold start behind it.
            ready = await asyncio.wait_for(
                asyncio.shield(template.ready), spec.timeout_s + self.restore_timeout_s
            )
        except asyncio.TimeoutError:
            template.fail({"errorType": "Runtime.InitTimeout", "errorMessage": "init timed out"})
            return None
        if not ready:
            return None
        if template.idle_timer is not None:
            template.idle_timer.cancel()
            template.idle_timer = None
        parents = self.launcher.sandbox.cgroups
        try:
            spare = await asyncio.wait_for(
                template.take(self.runtime_api, parents), self.restore_timeout_s
            )
        except asyncio.TimeoutError:
            logger.warning("the template of %s does not fork: stopped", spec.name)
            self.retire_template(template)
            template.kill()
            return None
        except OSError as exc:
            logger.debug("no fork of %s's template: %s", spec.name, exc)
            if template.state == "unsupported":
                self.unsupported = (
                    "a template could not fork an instance with its own namespaces here "
                    "(see the function's log): cold starts start a new interpreter"
                )
            return None
        listener = spare.listener or await self.runtime_api.listen()
        env = self.launcher.instance_env(
            spec, ident, listener.port, template.isolated, provisioned=provisioned
        )
        try:
            pipes = template.go(spare, env)
        except OSError:
            listener.close()
            return None
        finally:
            template.replenish(self.runtime_api, parents)
        instance = Instance(
            spec,
            ident,
            listener.port,
            ForkedProcess(spare.host_pid),
            pipes,
            events,
            listener.close,
            "",
            cgroup=spare.cgroup,
            exit_status=spare.exit_status,
        )
        instance.credentials_since = template.started_at
        listener.attach(instance)
        template.instances += 1
        template.live.add(instance)
        instance.exited.add_done_callback(lambda _: self._instance_gone(template, instance))
        return instance

    def _instance_gone(self, template: Template, instance: Instance) -> None:
        template.instances -= 1
        template.live.discard(instance)
        if template.instances:
            return
        if template.state == "retired" or template in self._retired:
            template.kill()
        elif template.alive and template.idle_timer is None:
            template.idle_timer = asyncio.get_running_loop().call_later(
                self.settings.idle_timeout_s, self._idle, template
            )

    def _idle(self, template: Template) -> None:
        template.idle_timer = None
        if template.instances == 0:
            self._forget(template)
            template.kill()

    async def _start(self, spec: FunctionSpec) -> Template | None:
        isolated = self.launcher.isolates(spec)
        template = Template(spec, isolated, lambda stream, line: self._output(spec, stream, line))
        self._templates[spec.instance_key] = template
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener = await (
            self.runtime_api.listen_isolated() if isolated else self.runtime_api.listen()
        )
        ident = f"template{os.getpid():x}{next(self._ids):06x}"
        try:
            launched = await self.launcher.launch(
                spec,
                self.launcher.template_argv(spec),
                ident,
                listener,
                isolated,
                template_fd=theirs.detach(),
            )
        except (OSError, ValueError) as exc:
            ours.close()
            self._forget(template)
            logger.warning("cannot start a template of %s: %s", spec.name, exc)
            return None
        finally:
            # The template never calls the Runtime API; its namespace lives on in it.
            listener.close()
        template.attach(ours, launched)
        template.exited.add_done_callback(lambda _: self._gone(template))
        return template

    def _gone(self, template: Template) -> None:
        if template.state != "failed":  # kept, with its error, until a change retires it
            self._forget(template)
        self._retired.discard(template)

    def _forget(self, template: Template) -> None:
        if self._templates.get(template.spec.instance_key) is template:
            del self._templates[template.spec.instance_key]

    def retire(self, name: str, version: str | None = None) -> None:
        """Retire ``name``'s templates (one version, or all): no more forks; each is
        stopped once its last instance has gone."""
        for template in list(self._templates.values()):
            spec = template.spec
            if spec.name == name and (version is None or spec.version == version):
                self.retire_template(template)

    def not_restored(self, instance: Instance) -> None:
        """``instance`` did not come up in time: its template is broken; replace it."""
        for template in [*self._templates.values(), *self._retired]:
            if instance in template.live:
                logger.warning("a fork of %s's template did not start: stopped", template.spec.name)
                self.retire_template(template)
                template.kill()

    def retire_template(self, template: Template) -> None:
        """No more forks of ``template``; it stops once its last instance has gone."""
        self._forget(template)
        if template.state != "failed":
            template.state = "retired"
        if template.exited.done():
            return
        self._retired.add(template)
        if template.instances == 0:
            template.kill()

    async def stop(self) -> None:
        templates = [*self._templates.values(), *self._retired]
        for template in templates:
            template.kill()
        waiting = [t.exited for t in templates if t._popen is not None]
        waiting += [task for t in templates for task in t.preparing]
        if waiting:
            await asyncio.wait(waiting, timeout=10)
        self._templates.clear()
        self._retired.clear()

    def status(self) -> dict[str, Any]:
        """What ``strum platform status`` shows: whether cold starts fork, and each template."""
        return {
            "enabled": self.reason() is None,
            "reason": self.reason(),
            "templates": [
                {
                    "function": t.spec.name,
                    "version": t.spec.version,
                    "state": t.state,
                    "instances": t.instances,
                    "cold_starts_forked": t.forks,
                    "init_ms": None if t.init_ms is None else round(t.init_ms, 2),
                    "pid": t.host_pid,
                    # Proportional memory: a fork's share of the pages it shares with its
                    # template and siblings, plus its own.
                    "pss_kb": _pss_kb(t.host_pid),
                    "instances_pss_kb": [_pss_kb(i.pid) for i in t.live],
                    "error": t.error,
                }
                for t in [*self._templates.values(), *self._retired]
            ],
        }


def _pss_kb(pid: int | None) -> int | None:
    """A process's proportional set size (``/proc/PID/smaps_rollup``), None if gone."""
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


__all__ = ["RESTORE_TIMEOUT_S", "SnapStartError", "Templates", "restore_timed_out"]
