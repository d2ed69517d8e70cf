"""What the operating system enforces around each instance, as far as the machine allows:
``probe`` finds out what works here (``Capabilities``), ``bwrap`` builds the bubblewrap root
and the bind mounts a root platform needs, ``cgroups`` caps memory and processes,
``seccomp`` denies system calls, ``sdk`` stages the AWS SDK functions find importable, ``forks`` serves
instances forked from a template, ``spawn`` starts the process with its rlimits inside its
network namespace. The bottom of the platform: it imports nothing of the layers above.
"""

from strum.platform.sandbox.bwrap import (
    NOBODY,
    OPT,
    RUNTIME_DIR,
    SDK_DIR,
    TASK_ROOT,
    BindMounts,
    bwrap_command,
    interpreter,
    interpreter_prefix,
    prepare_etc,
    refresh_etc,
)
from strum.platform.sandbox.cgroups import MAX_TASKS, Cgroup, Spawner, remove_parents
from strum.platform.sandbox.forks import bind_in_network, host_pid, template_arguments
from strum.platform.sandbox.probe import Capabilities, probe
from strum.platform.sandbox.sdk import SDK_PACKAGES, prepare_sdk
from strum.platform.sandbox.seccomp import DENIED, program, program_fd
from strum.platform.sandbox.spawn import descendants, entered, new_network, spawn

__all__ = [
    "DENIED",
    "MAX_TASKS",
    "NOBODY",
    "OPT",
    "RUNTIME_DIR",
    "SDK_DIR",
    "SDK_PACKAGES",
    "TASK_ROOT",
    "BindMounts",
    "Capabilities",
    "Cgroup",
    "Spawner",
    "bind_in_network",
    "bwrap_command",
    "descendants",
    "entered",
    "host_pid",
    "interpreter",
    "interpreter_prefix",
    "new_network",
    "prepare_etc",
    "prepare_sdk",
    "probe",
    "program",
    "program_fd",
    "refresh_etc",
    "remove_parents",
    "spawn",
    "template_arguments",
]
