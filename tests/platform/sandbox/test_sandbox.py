"""The sandbox, attacked: a hostile function tries to escape and every attempt fails.

One real platform runs sandboxed for the module; a hostile function (real Python, real
system calls) is told which attack to make and reports what happened. After each attack
a bystander function must still answer. A benign function shows that declared
permissions (network, extra files, tasks) do work.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from strum.deploy.local import PlatformLambdaAPI
from strum.platform import sandbox
from strum.platform.sandbox import MAX_TASKS
from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import make_zip

CAPS = sandbox.probe()
pytestmark = pytest.mark.skipif(
    CAPS.bwrap is None, reason=f"no sandbox here: {CAPS.reasons.get('filesystem')}"
)
needs_netns = pytest.mark.skipif(not CAPS.netns, reason=f"{CAPS.reasons.get('network')}")
needs_cgroups = pytest.mark.skipif(CAPS.cgroups is None, reason=f"{CAPS.reasons.get('cgroups')}")

ROLE = "arn:aws:iam::000000000000:role/sandbox"
HOST_SECRET = "STRUM_TEST_HOST_ONLY_SECRET"

HOSTILE = r"""
import errno, mmap, os, signal, socket, time

def attempt(action):
    try:
        return {"ok": True, "value": action()}
    except BaseException as exc:  # the point is to report the failure
        return {"ok": False, "error": type(exc).__name__, "errno": getattr(exc, "errno", None)}

def read(path):
    with open(path, "rb") as handle:
        return len(handle.read())

def write(path):
    with open(path, "wb") as handle:
        handle.write(b"pwned")
    return path

def fill_tmp(_):
    written = 0
    try:
        for index in range(100):
            with open(f"/tmp/fill-{index}", "wb") as handle:
                for _ in range(16):
                    handle.write(b"x" * (4 * 1024 * 1024))
                    written += 4 * 1024 * 1024
    finally:
        for index in range(100):
            try:
                os.remove(f"/tmp/fill-{index}")
            except FileNotFoundError:
                pass
        attempt.written = written
    return written

def connect(address):
    socket.create_connection(tuple(address), timeout=2).close()
    return "connected"

def fork_bomb(_):
    children = []
    try:
        while len(children) < 5000:
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            children.append(pid)
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        for pid in children:
            os.waitpid(pid, 0)
        attempt.forked = len(children)

def shared_memory(size):
    block = mmap.mmap(-1, size)  # shared anonymous: tmpfs pages, not counted by RLIMIT_DATA
    for offset in range(0, size, 4096):
        block[offset] = 1
    return size

def raw_syscall(number, *arguments):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(number, *arguments)
    return [result, ctypes.get_errno()]

def heap(size):
    return len(bytearray(size))

ATTACKS = {
    "read": read, "write": write, "listdir": os.listdir, "fill_tmp": fill_tmp,
    "connect": connect, "fork_bomb": fork_bomb, "shared_memory": shared_memory,
    "heap": heap, "kill": lambda pid: os.kill(pid, signal.SIGKILL),
    "env": lambda name: os.environ.get(name),
    "whoami": lambda _: {"uid": os.getuid(), "pid": os.getpid(), "root": sorted(os.listdir("/"))},
    "syscall": lambda arguments: raw_syscall(*arguments),
    "write_text": lambda arguments: open(arguments[0], "w").write(arguments[1]),
    "limits": lambda _: __import__("resource").getrlimit(__import__("resource").RLIMIT_DATA),
}

def handler(event, context):
    result = attempt(lambda: ATTACKS[event["attack"]](event.get("arg")))
    for extra in ("written", "forked"):
        if hasattr(attempt, extra):
            result[extra] = getattr(attempt, extra)
            delattr(attempt, extra)
    return result
"""

BYSTANDER = "def handler(event, context):\n    return {'still': 'serving'}\n"

BENIGN = r"""
import os, socket
from strum import task

@task
def later(word):
    print("task ran with", word)

def handler(event, context):
    if event.get("strum") == "task":  # what .delay() sends (strum's entry router does this)
        return later.fn(*event["args"])
    if event.get("task"):
        return {"queued": later.delay(event["task"])}
    with open(event["file"]) as handle:
        content = handle.read()
    connection = socket.create_connection(tuple(event["server"]), timeout=5)
    connection.sendall(b"ping")
    answer = connection.recv(16).decode()
    connection.close()
    return {"file": content, "answer": answer}
"""


# Every attack runs against instances forked from a template and against instances
# started the old way (a new interpreter each): both must hold.
@pytest.fixture(scope="module", params=[True, False], ids=["templates", "no-templates"])
def platform(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningPlatform]:
    os.environ[HOST_SECRET] = "hunter2"
    try:
        # Every cold start forks, the first too, so each attack meets a forked instance.
        running = start_platform(
            tmp_path_factory.mktemp("sandbox") / "home",
            sandbox=True,
            templates=request.param,
            cold_starts_before_template=0,
        )
    finally:
        del os.environ[HOST_SECRET]
    client = running.client()
    client.create_function(
        FunctionName="hostile", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        # resource.py: a package module must not stand in for the one the runtime limits with.
        Code={"ZipFile": make_zip({"app.py": HOSTILE, "resource.py": "raise SystemExit(9)"})},
        Timeout=30, MemorySize=128,
    )  # fmt: skip
    client.create_function(
        FunctionName="bystander", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": BYSTANDER})},
    )  # fmt: skip
    yield running
    running.stop()


def runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def invoke(running: RunningPlatform, name: str, event: dict[str, Any]) -> dict[str, Any]:
    client = running.client()
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    document = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        return {"function_error": document}
    return document


def attack(running: RunningPlatform, name: str, arg: Any = None) -> dict[str, Any]:
    result = invoke(running, "hostile", {"attack": name, "arg": arg})
    assert invoke(running, "bystander", {}) == {"still": "serving"}
    return result


def test_the_function_sees_its_own_small_world(platform: RunningPlatform) -> None:
    seen = attack(platform, "whoami")["value"]
    assert seen["uid"] == 65534  # nobody, without capabilities
    assert seen["pid"] < 10  # its own PID namespace
    assert set(seen["root"]) <= {"bin", "dev", "etc", "lib", "lib64", "proc", "root", "sbin"} | {
        "tmp",
        "usr",
        "var",
        "opt",
        "home",
        "lib32",
        "libx32",
    }
    # The interpreter may live in a home directory (pyenv): then only its prefix is there.
    prefix = Path(sys.base_prefix).resolve()
    for home in (Path.home(), Path("/home")):
        listed = attack(platform, "listdir", str(home))
        if listed["ok"]:
            assert prefix.is_relative_to(home)
            assert listed["value"] == [prefix.relative_to(home).parts[0]]


@pytest.mark.skipif(CAPS.run_as is None, reason="the platform does not run as root")
def test_on_the_host_the_function_is_nobody(platform: RunningPlatform) -> None:
    attack(platform, "whoami")  # a warm instance of "hostile" and one of "bystander"
    uids = set()
    for instance in platform.platform.engine._instances:
        status = Path(f"/proc/{instance.function_pid()}/status").read_text()
        uids.add(next(line for line in status.splitlines() if line.startswith("Uid:")))
    assert uids == {f"Uid:\t{sandbox.NOBODY}\t{sandbox.NOBODY}\t{sandbox.NOBODY}\t{sandbox.NOBODY}"}


def test_the_runtime_limits_itself_before_the_function_loads(platform: RunningPlatform) -> None:
    assert attack(platform, "limits")["value"] == [128 * 1024 * 1024] * 2


def test_platform_state_and_other_code_are_out_of_sight(platform: RunningPlatform) -> None:
    home = platform.platform.home
    assert home.db.exists()
    assert attack(platform, "read", str(home.db))["ok"] is False
    assert attack(platform, "listdir", str(home.root))["ok"] is False
    other = platform.platform.store.version_spec("bystander", "$LATEST").code_dir
    assert (other / "app.py").exists()
    assert attack(platform, "read", str(other / "app.py"))["ok"] is False
    assert attack(platform, "read", "/etc/shadow")["ok"] is False


def test_home_and_credentials_are_out_of_sight(platform: RunningPlatform, tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_secret_access_key = hunter2\n")
    assert attack(platform, "read", str(secret))["ok"] is False
    assert attack(platform, "read", str(Path.home() / ".aws" / "credentials"))["ok"] is False
    assert attack(platform, "listdir", "/home")["ok"] is False


def test_host_environment_does_not_leak(platform: RunningPlatform) -> None:
    assert attack(platform, "env", HOST_SECRET) == {"ok": True, "value": None}
    assert attack(platform, "env", "AWS_LAMBDA_FUNCTION_NAME")["value"] == "hostile"


def test_kernel_settings_cannot_be_changed(platform: RunningPlatform) -> None:
    # Writing back the current value: harmless if the sandbox failed, and still a write.
    current = Path("/proc/sys/kernel/printk_ratelimit").read_text().strip()
    script = f"echo {current} > /proc/sys/kernel/printk_ratelimit"
    assert (
        attack(platform, "write_text", ["/proc/sys/kernel/printk_ratelimit", current])["ok"]
        is False
    ), script
    # "h" only prints SysRq's help to the kernel log, if it got through.
    assert attack(platform, "write_text", ["/proc/sysrq-trigger", "h"])["ok"] is False
    assert attack(platform, "listdir", "/etc/ssl/private")["ok"] is False
    assert attack(platform, "read", "/etc/shadow")["ok"] is False


def test_only_tmp_is_writable(platform: RunningPlatform) -> None:
    for target in ("/var/task/app.py", "/var/task/new.py", "/usr/pwned", "/pwned", "/etc/x"):
        result = attack(platform, "write", target)
        assert result["ok"] is False, target
    assert attack(platform, "write", "/tmp/fine")["ok"] is True


def test_tmp_is_limited_to_the_ephemeral_storage(platform: RunningPlatform) -> None:
    result = attack(platform, "fill_tmp")
    assert result["ok"] is False and result["errno"] == 28  # ENOSPC
    assert result["written"] <= 512 * 1024 * 1024


@needs_netns
def test_no_network_without_permission(platform: RunningPlatform) -> None:
    with listening() as address:
        result = attack(platform, "connect", address)
    assert result["ok"] is False and result["error"] == "ConnectionRefusedError"
    api = ("127.0.0.1", platform.platform.port)
    assert attack(platform, "connect", api)["ok"] is False
    outside = attack(platform, "connect", ("10.255.255.1", 80))
    assert outside["ok"] is False and outside["errno"] == 101  # ENETUNREACH


@needs_cgroups
def test_a_fork_bomb_stops_at_the_process_limit(platform: RunningPlatform) -> None:
    result = attack(platform, "fork_bomb")
    assert result["ok"] is False and result["error"] == "BlockingIOError"
    assert result["forked"] < MAX_TASKS


def test_heap_past_the_memory_size_fails(platform: RunningPlatform) -> None:
    result = attack(platform, "heap", 256 * 1024 * 1024)
    assert result == {"ok": False, "error": "MemoryError", "errno": None}


@needs_cgroups
def test_memory_past_the_cgroup_limit_is_an_out_of_memory_kill(platform: RunningPlatform) -> None:
    result = attack(platform, "shared_memory", 800 * 1024 * 1024)
    assert result["function_error"]["errorType"] == "Runtime.OutOfMemory"


@pytest.mark.skipif(not CAPS.seccomp, reason=f"{CAPS.reasons.get('seccomp')}")
def test_kernel_interfaces_a_function_never_needs_are_filtered(platform: RunningPlatform) -> None:
    import errno

    from strum.platform.sandbox import DENIED

    column = 0 if os.uname().machine == "x86_64" else 1
    clone_newuser = 0x10000000
    # Without the filter a user-namespaced process may nest another user namespace.
    assert attack(platform, "syscall", [DENIED["unshare"][column], clone_newuser])["value"] == [
        -1,
        errno.EPERM,
    ]
    for name in ("userfaultfd", "bpf", "keyctl", "open_by_handle_at"):
        assert attack(platform, "syscall", [DENIED[name][column], 0])["value"] == [
            -1,
            errno.EPERM,
        ], name
    io_uring = attack(platform, "syscall", [DENIED["io_uring_setup"][column], 1, 0])
    assert io_uring["value"] == [-1, errno.ENOSYS]
    assert attack(platform, "syscall", [39 if column == 0 else 172])["value"][0] > 0  # getpid


def test_the_platform_cannot_be_killed(platform: RunningPlatform) -> None:
    result = attack(platform, "kill", os.getpid())
    assert result["ok"] is False
    assert attack(platform, "kill", 1)["ok"] is True  # its namespace's init ignores it
    assert attack(platform, "whoami")["ok"] is True


def test_declared_permissions_are_granted(platform: RunningPlatform, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.txt").write_text("declared")
    client = platform.client()
    client.create_function(
        FunctionName="benign", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": BENIGN})}, Timeout=10,
    )  # fmt: skip
    # strum's extension field; boto3 does not know it, so it goes through strum's client.
    configure(platform, "benign", {"Network": True, "Files": [str(shared)]})
    with listening(answer=b"pong") as address:
        result = invoke(platform, "benign", {"file": str(shared / "data.txt"), "server": address})
    assert result == {"file": "declared", "answer": "pong"}


@needs_netns
def test_tasks_work_without_network(platform: RunningPlatform) -> None:
    client = platform.client()
    client.create_function(
        FunctionName="tasker", Runtime=runtime(), Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": BENIGN})},
    )  # fmt: skip
    queued = invoke(platform, "tasker", {"task": "offline"})["queued"]
    assert queued
    logs = platform.platform.engine.logs
    deadline = time.monotonic() + 20
    while not any("task ran with offline" in e["message"] for e in logs.query("tasker")):
        assert time.monotonic() < deadline, "the task never ran"
        time.sleep(0.05)


def test_the_status_says_what_is_enforced(platform: RunningPlatform) -> None:
    isolation = platform.platform.engine.status()["instances"]["isolation"]
    assert isolation["filesystem"] is True and isolation["pid_namespace"] is True
    assert isolation["network_namespace"] is CAPS.netns
    assert isolation["cgroups"] is (CAPS.cgroups is not None)
    assert set(isolation["not_enforced"]) == set(CAPS.reasons)


def configure(running: RunningPlatform, name: str, permissions: dict[str, Any]) -> None:
    api = PlatformLambdaAPI.for_home(running.platform.home, running.endpoint)
    try:
        api.update_function_configuration(name, {"StrumPermissions": permissions})
    finally:
        api.close()


class listening:
    """A TCP server on host loopback that answers one connection (a thread, bounded)."""

    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(10)
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> list[Any]:
        self.thread.start()
        return list(self.server.getsockname())

    def _serve(self) -> None:
        try:
            connection, _ = self.server.accept()
        except OSError:
            return
        with connection:
            connection.recv(16)
            connection.sendall(self.answer)

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the accept() in the thread
        self.server.close()
        self.thread.join(timeout=10)


def test_the_platform_survived_every_attack(platform: RunningPlatform) -> None:
    # Last in the module: the attacks above ran against this very process.
    assert invoke(platform, "bystander", {}) == {"still": "serving"}
    assert platform.thread.is_alive()


@needs_cgroups
def test_a_second_platform_in_the_same_process_still_sandboxes(tmp_path: Path) -> None:
    # The probe is cached per process; the first platform's stop removed its cgroups.
    from tests.platform.engine.engine_support import make_spec, run_engine, write_code

    code = write_code(tmp_path / "code", {"app.py": BYSTANDER})

    async def scenario(engine):
        return json.loads((await engine.invoke(make_spec(code), b"{}")).payload)

    for round_ in ("first", "second"):
        assert run_engine(tmp_path / round_, scenario, sandbox=True) == {"still": "serving"}


def test_the_attacks_ran_on_the_instances_they_meant_to(platform: RunningPlatform) -> None:
    attack(platform, "whoami")
    forked = platform.platform.settings.templates
    hostile = [i for i in platform.platform.engine._instances if i.spec.name == "hostile"]
    assert hostile and all(i.restored_from_template is forked for i in hostile)
