"""Launching instances: the command, the environment and the sandbox around a process.

``Launcher`` turns a ``FunctionSpec`` into a running process: the runtime's command (or
an error document when there is none), an environment built from scratch, and - where
the machine allows it - the sandbox (``strum.platform.sandbox``): bubblewrap, a network
namespace, cgroups (``strum.platform.cgroups``) and a seccomp filter
(``strum.platform.seccomp``). The engine decides when to launch; this module decides how.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from strum.platform import sandbox
from strum.platform.engine.runtime_api import Listener
from strum.platform.home import Home
from strum.platform.sandbox import Cgroup, spawn
from strum.platform.settings import Settings
from strum.platform.spec import FunctionSpec
from strum.platform.volumes import VolumeError, ensure_volume

logger = logging.getLogger(__name__)

# The strum runtime, started with -c rather than -m: runpy's imports cost a few ms of
# every cold start. -S skips site (its .pth processing is most of a bare start-up): a
# function sees its package, not the platform's virtualenv, as on Lambda.
_BOOTSTRAP = "import sys; from strum.runtime._bootstrap import main; sys.exit(main())"
# A template: the same start, then init once and fork instances (``strum.runtime._zygote``).
_TEMPLATE = "import sys; from strum.runtime._zygote import main; sys.exit(main())"
# In a sandbox the runtime sets its own rlimits before anything of the function's is
# imported (cheaper than a prlimit exec in front of bubblewrap). sys.path[0] is the task
# root ('' with -c); it goes first, so no module in the package can stand in for resource.
_LIMITED_BOOTSTRAP = (
    "import sys; del sys.path[0]; import resource as r\n"
    "for k, v in ((r.RLIMIT_DATA, %d), (r.RLIMIT_FSIZE, %d), (r.RLIMIT_CORE, 0), "
    "(r.RLIMIT_NOFILE, 1024)): r.setrlimit(k, (v, v))\n" + _BOOTSTRAP
)
# The directory holding the strum package (src/ here): engine/ -> platform/ -> strum/ -> it.
_STRUM_SRC = str(Path(__file__).resolve().parents[3])


def _opt_paths(spec: FunctionSpec, boxed: bool) -> dict[str, str] | None:
    """Where a function finds its layers' bin/, lib/ and Python paths: under /opt in the
    sandbox; without one, under the merged directory on the host (not the literal /opt,
    which is the host's own)."""
    if spec.opt_dir is None:
        return None
    root = sandbox.OPT if boxed else str(spec.opt_dir)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return {
        "bin": f"{root}/bin",
        "lib": f"{root}/lib",
        "python": f"{root}/python/lib/{version}/site-packages{os.pathsep}{root}/python",
    }


class InvalidEntrypoint(Exception):
    """The runtime has no command to start (AWS's ``Runtime.InvalidEntrypoint``)."""


def _remove_stale_mount_roots(directory: Path) -> None:
    """Remove the (empty) bind-mount roots of platforms that died without stopping."""
    # The directory names keep their first spelling, so roots left by older platforms go too.
    for stage in directory.glob("strum-stage-*-*"):
        pid = stage.name.split("-")[2]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                stage.rmdir()
        except PermissionError:
            continue


@dataclass
class Launched:
    """A started instance process: its pipes, its cgroup and its host TMPDIR (if any)."""

    popen: subprocess.Popen[bytes]
    pipes: tuple[int, int]
    tmpdir: str
    cgroup: Cgroup | None
    sandboxed: bool


class Launcher:
    """Starts instance processes for one engine, sandboxed as far as the machine allows."""

    def __init__(
        self,
        home: Home,
        settings: Settings,
        api_endpoint: Callable[[], str] | None = None,
        credentials: Callable[[FunctionSpec], dict[str, str]] | None = None,
    ) -> None:
        self.home = home
        self.settings = settings
        # The Invoke API address given to functions (STRUM_PLATFORM_API). Asked when the
        # first instance starts, by which time the platform's API is listening.
        self._api_endpoint = api_endpoint
        # Fresh credentials for each instance (AWS_ACCESS_KEY_ID, ...), like an execution
        # role's session; None runs instances without any.
        self._credentials = credentials
        # What the operating system enforces around instances; probed in start().
        self.sandbox = sandbox.Capabilities()
        self._spawner: sandbox.Spawner | None = None
        self._mounts: sandbox.BindMounts | None = None
        self._etc = home.root / "sandbox" / "etc"  # what sandboxed instances see as /etc
        self._tmp = home.root / "tmp"  # TMPDIRs of unsandboxed instances
        # boto3 and its kin for Python functions (``sandbox.prepare_sdk``), staged on the
        # first Python launch: most platforms' tests never start one.
        self._sdk = home.root / "sandbox" / "sdk"
        self._sdk_staged: asyncio.Task[Path] | None = None
        self._env: dict[tuple[str, str, str, str], dict[str, str]] = {}
        self._warned: set[str] = set()

    async def start(self) -> None:
        """Probe the sandbox (once per process) and prepare what instances share."""
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir(mode=0o700, exist_ok=True)
        if not self.settings.sandbox:
            self.sandbox = sandbox.Capabilities.off("turned off (strum platform run --no-sandbox)")
            logger.warning("functions run without a sandbox (--no-sandbox): rlimits only")
            return
        self.sandbox = await asyncio.to_thread(sandbox.probe)
        if self.sandbox.bwrap:
            self._etc = await asyncio.to_thread(sandbox.prepare_etc, self._etc)
        if self.sandbox.run_as is not None:
            await self._bind_sources()
        elif self.sandbox.cgroups:
            self._spawner = sandbox.Spawner(self.sandbox.cgroups)
        for line in self.sandbox.missing():
            logger.warning("not enforced: %s", line)

    async def _bind_sources(self) -> None:
        """Bind what nobody's bubblewrap must reach into the spawning thread (see
        ``sandbox.BindMounts``); if that fails, instances run as the platform's uid, and
        the status says why."""
        self.home.volumes.mkdir(mode=0o711, exist_ok=True)
        sources = {
            "code": self.home.unpacked,
            "volumes": self.home.volumes,
            "etc": self._etc,
            "runtime": Path(_STRUM_SRC) / "strum",
            "python": sandbox.interpreter_prefix(),
        }
        # Traversable, not listable: code directories are reached by their content hash.
        self.home.unpacked.chmod(0o711)
        _remove_stale_mount_roots(Path(tempfile.gettempdir()))
        root = Path(tempfile.mkdtemp(prefix=f"strum-stage-{os.getpid()}-"))
        mounts = sandbox.BindMounts(root, sources)
        spawner = sandbox.Spawner(self.sandbox.cgroups, init=mounts.enter)
        try:
            await spawner.ready()
        except OSError as exc:
            await asyncio.to_thread(spawner.close)
            root.rmdir()
            reasons = {
                **self.sandbox.reasons,
                "unprivileged_uid": f"instances run as the platform's uid: cannot stage "
                f"their sources for nobody ({exc})",
            }
            self.sandbox = dataclasses.replace(self.sandbox, run_as=None, reasons=reasons)
            if self.sandbox.cgroups:
                self._spawner = sandbox.Spawner(self.sandbox.cgroups)
            return
        self._mounts, self._spawner = mounts, spawner

    async def stop(self) -> None:
        if self._spawner is not None:
            await asyncio.to_thread(self._spawner.close)
            self._spawner = None
        if self._mounts is not None:
            # Its mounts lived in the spawning thread's namespace, gone with the thread.
            with contextlib.suppress(OSError):
                self._mounts.root.rmdir()
            self._mounts = None
        sandbox.remove_parents(self.sandbox.cgroups)

    def problems(self) -> list[str]:
        """What instances need on disk that is gone (each says what, where and what to do)."""
        needed = {
            "the platform's home": self.home.root,
            "the unpacked function code": self.home.unpacked,
            "strum's runtime package": Path(_STRUM_SRC) / "strum",
        }
        if self.sandbox.bwrap:
            needed["the sandbox's /etc"] = self._etc
        else:
            needed["the directory of the instances' TMPDIRs"] = self._tmp
        if self._mounts is not None:
            needed["the sandbox's staged sources"] = self._mounts.root
        return [
            f"{what} is gone ({path}): no instance can start; restart the platform "
            "(`strum platform stop` then `start`), which prepares it again"
            for what, path in needed.items()
            if not path.exists()
        ]

    def isolates(self, spec: FunctionSpec) -> bool:
        """Whether ``spec``'s instances get a network namespace of their own."""
        return self.sandbox.netns and spec.network is False

    def instance_env(
        self, spec: FunctionSpec, ident: str, port: int, isolated: bool, *, provisioned: bool
    ) -> dict[str, str]:
        """The environment of one instance whose Runtime API listens on ``port``."""
        env = dict(self.base_env(spec))
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{port}"
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = (
            f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{spec.version}]{ident}"
        )
        if provisioned:
            env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "provisioned-concurrency"
        if isolated:
            # The only platform address an instance without network can reach.
            env["STRUM_PLATFORM_API"] = f"http://127.0.0.1:{port}"
        if self._credentials is not None:
            env.update(self._credentials(spec))
            # AWS's SDKs (boto3 1.28+, the CLI v2, JavaScript v3...) read the Lambda endpoint
            # from here, so a function's own SDK calls reach this platform as itself.
            env["AWS_ENDPOINT_URL_LAMBDA"] = env["STRUM_PLATFORM_API"]
        if self.sandbox.bwrap:
            env["TMPDIR"] = "/tmp"
        return env

    async def launch(
        self,
        spec: FunctionSpec,
        command: list[str],
        ident: str,
        listener: Listener,
        isolated: bool,
        *,
        provisioned: bool = False,
        template_fd: int | None = None,
    ) -> Launched:
        """Start ``command`` for ``spec`` with ``listener`` as its Runtime API (raises
        OSError when the process cannot start); a ``provisioned`` instance is told so. A
        template (``strum.runtime._zygote``) gets its control socket ``template_fd``
        (closed here once passed) and the filter that lets its forks make namespaces."""
        caps = self.sandbox
        env = self.instance_env(spec, ident, listener.port, isolated, provisioned=provisioned)
        tmpdir = self._tmp / ident
        cgroup = None
        python = spec.runtime.startswith("python")
        if python:
            await self._stage_sdk()
        volumes = self._volumes(spec)
        filter_fd = sandbox.program_fd(template_fd is not None) if caps.seccomp else None
        descriptors = [] if filter_fd is None else [filter_fd]
        if template_fd is not None:
            descriptors.append(template_fd)
            env["STRUM_TEMPLATE_FD"] = str(template_fd)
        mounts = self._mounts
        try:
            if caps.bwrap:
                sandbox.refresh_etc(self._etc)
            else:
                tmpdir.mkdir(mode=0o700)
                env["TMPDIR"] = str(tmpdir)
            namespace = listener.namespace

            def fork() -> tuple[subprocess.Popen[bytes], tuple[int, int]]:
                # In the spawning thread: staged sources are bound there, on first use.
                argv = command
                if caps.bwrap:
                    argv = sandbox.bwrap_command(
                        caps.bwrap,
                        command,
                        etc_dir=self._etc,
                        code_dir=spec.code_dir,
                        runtime_package=Path(_STRUM_SRC) / "strum",
                        tmp_bytes=spec.ephemeral_mb * 1024 * 1024,
                        files=spec.files,
                        seccomp_fd=filter_fd,
                        mounts=mounts,
                        volumes=volumes,
                        sdk_dir=self._sdk if python else None,
                        opt_dir=spec.opt_dir,
                    )
                    if template_fd is not None:
                        argv = sandbox.template_arguments(argv)
                return spawn(
                    argv,
                    env,
                    "/" if caps.bwrap else str(spec.code_dir),  # bubblewrap changes directory
                    memory_mb=spec.memory_mb,
                    ephemeral_mb=spec.ephemeral_mb,
                    namespace=namespace,
                    prlimit_command=bool(caps.bwrap) and not spec.runtime.startswith("python"),
                    pass_fds=tuple(descriptors),
                    run_as=caps.run_as if mounts is not None else None,
                )

            if self._spawner is not None:
                # Memory plus /tmp: tmpfs pages are charged to the cgroup that writes them.
                limit = (spec.memory_mb + spec.ephemeral_mb) * 1024 * 1024
                (popen, pipes), cgroup = await self._spawner.spawn(fork, limit)
            else:
                popen, pipes = fork()
        except OSError:
            if cgroup is not None:
                cgroup.remove()
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        finally:
            for descriptor in descriptors:
                os.close(descriptor)
        return Launched(popen, pipes, str(tmpdir), cgroup, bool(caps.bwrap))

    async def _stage_sdk(self) -> None:
        if self._sdk_staged is None:
            self._sdk_staged = asyncio.ensure_future(
                asyncio.to_thread(sandbox.prepare_sdk, self._sdk)
            )
        try:
            await asyncio.shield(self._sdk_staged)
        except OSError as exc:
            # Functions still run, without boto3 unless they package it; try again later.
            self._sdk_staged = None
            logger.warning("cannot stage the AWS SDK for functions in %s: %s", self._sdk, exc)

    def _volumes(self, spec: FunctionSpec) -> tuple[tuple[Path, str], ...]:
        """Each configured volume's directory (made on first use, writable by the uid
        instances run as) and its mount path; OSError when one cannot be used."""
        owner = self.sandbox.run_as if self._mounts is not None else None
        try:
            return tuple(
                (ensure_volume(self.home.volumes, name, owner), path) for name, path in spec.volumes
            )
        except VolumeError as exc:
            raise OSError(str(exc)) from None

    def template_argv(self, spec: FunctionSpec) -> list[str]:
        """The command of a Python function's template (see ``templates``)."""
        argv = self.argv(spec)
        argv[-1] = argv[-1].replace(_BOOTSTRAP, _TEMPLATE)
        return argv

    def argv(self, spec: FunctionSpec) -> list[str]:
        """The command of the runtime; ``InvalidEntrypoint`` when there is none."""
        runtime = spec.runtime
        if spec.volumes and not self.sandbox.bwrap:
            # Without a mount namespace there is nowhere to put /mnt/<name> but the host's
            # own /mnt: refuse rather than let the function write the host's directories.
            paths = ", ".join(path for _, path in spec.volumes)
            raise InvalidEntrypoint(
                f"{spec.name} mounts a file system at {paths}, which needs the platform's "
                "sandbox (bubblewrap), and this platform runs without it ("
                f"{self.sandbox.reasons.get('filesystem') or 'off'}); run it sandboxed, or "
                "remove FileSystemConfigs"
            )
        if runtime.startswith("python3"):
            host = f"python{sys.version_info.major}.{sys.version_info.minor}"
            if runtime != host and runtime not in self._warned:
                self._warned.add(runtime)
                logger.warning(
                    "%s asks for %s; the local platform runs functions on the host's %s",
                    spec.name,
                    runtime,
                    host,
                )
            if self.sandbox.bwrap:
                mib = 1024 * 1024
                limits = (spec.memory_mb * mib, spec.ephemeral_mb * mib)
                return [sandbox.interpreter(), "-S", "-c", _LIMITED_BOOTSTRAP % limits]
            return [sys.executable, "-S", "-c", _BOOTSTRAP]
        if runtime.startswith("provided"):
            bootstrap = spec.code_dir / "bootstrap"
            if bootstrap.is_file() and os.access(bootstrap, os.X_OK):
                if self.sandbox.bwrap:
                    return [f"{sandbox.TASK_ROOT}/bootstrap"]
                return [str(bootstrap)]
            raise InvalidEntrypoint(f"Couldn't find valid bootstrap(s): [{bootstrap}]")
        raise InvalidEntrypoint(
            f"the runtime {runtime} is not available on this platform "
            "(use python3.x, or provided.al2023 with an executable bootstrap)"
        )

    def base_env(self, spec: FunctionSpec) -> dict[str, str]:
        key = spec.instance_key
        env = self._env.get(key)
        if env is not None:
            return env
        python = spec.runtime.startswith("python")
        boxed = self.sandbox.bwrap is not None
        runtime_dir = sandbox.RUNTIME_DIR if boxed else _STRUM_SRC
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
        }
        # The SDK last: the package's own code, its layers (and the function's PYTHONPATH)
        # win - Lambda's order: the task root (sys.path[0]), the layers, then the runtime.
        sdk_dir = sandbox.SDK_DIR if boxed else str(self._sdk)
        opt = _opt_paths(spec, boxed)
        if opt is not None:
            env["PATH"] += os.pathsep + opt["bin"]
            env["LD_LIBRARY_PATH"] = opt["lib"]
        runtime_path = runtime_dir + os.pathsep + sdk_dir
        if opt is not None:
            runtime_path = opt["python"] + os.pathsep + runtime_path
        if python:
            env["PYTHONPATH"] = runtime_path
        env.update(spec.environment)
        if python and "PYTHONPATH" in dict(spec.environment):
            env["PYTHONPATH"] += os.pathsep + runtime_path
        env.update(
            {
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": sandbox.TASK_ROOT if boxed else str(spec.code_dir),
                "LAMBDA_RUNTIME_DIR": runtime_dir,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_REGION": spec.region,
                "AWS_DEFAULT_REGION": spec.region,
                "STRUM_PLATFORM_API": self.endpoint(),
            }
        )
        if python:
            env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{spec.runtime}"
            env["PYTHONUNBUFFERED"] = "1"
            if boxed:
                # Nothing writable is shared between instances, so no bytecode cache: the
                # build compiles it into the package when the Python versions match.
                env["PYTHONDONTWRITEBYTECODE"] = "1"
            else:
                # Bytecode outside the read-only code: one cache per code version (the
                # prefix mirrors the absolute path; each version's code has its own path).
                env["PYTHONPYCACHEPREFIX"] = str(self.home.bytecode)
        if len(self._env) > 1000:
            self._env.clear()
        self._env[key] = env
        return env

    def endpoint(self) -> str:
        """The platform's Invoke API as functions reach it ("" when none was given)."""
        return self._api_endpoint() if self._api_endpoint is not None else ""
