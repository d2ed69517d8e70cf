"""What a package is built for: a Python version and a CPU architecture on Linux.

AWS Lambda's Python runtimes run on Amazon Linux 2023 (glibc 2.34): any manylinux wheel up to
``manylinux_2_34`` for the right architecture works there. The local target is the host
itself, where the platform runs functions on the host interpreter.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass

AWS_GLIBC = (2, 34)


@dataclass(frozen=True)
class Target:
    """A build target. ``native`` targets install for the host; others cross-install."""

    python: str  # "3.12"
    architecture: str  # "x86_64" | "arm64"
    provider: str  # "local" | "aws"

    @classmethod
    def local(cls) -> Target:
        """The host: its interpreter version and machine."""
        machine = platform.machine().lower()
        architecture = "arm64" if machine in ("arm64", "aarch64") else "x86_64"
        return cls(f"{sys.version_info[0]}.{sys.version_info[1]}", architecture, "local")

    @property
    def native(self) -> bool:
        """Whether the host can install for this target directly (no cross-install)."""
        if self.provider == "local":
            return True
        host = Target.local()
        return (
            sys.platform == "linux"
            and (host.python, host.architecture)
            == (
                self.python,
                self.architecture,
            )
            and _host_glibc() <= AWS_GLIBC
        )

    @property
    def key(self) -> str:
        """A short stable name, used in cache keys and file names."""
        return f"{self.provider}-py{self.python}-{self.architecture}"

    @property
    def abi(self) -> str:
        return "cp" + self.python.replace(".", "")

    def platform_tags(self) -> list[str]:
        """pip ``--platform`` values accepted on AWS Lambda for this architecture."""
        machine = "aarch64" if self.architecture == "arm64" else "x86_64"
        tags = [f"manylinux_2_{minor}_{machine}" for minor in range(AWS_GLIBC[1], 16, -1)]
        tags.append(f"manylinux2014_{machine}")
        if machine == "x86_64":
            tags += ["manylinux2010_x86_64", "manylinux1_x86_64"]
        return tags

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values for the target, to evaluate locked requirements."""
        machine = "aarch64" if self.architecture == "arm64" else "x86_64"
        if self.provider == "local":
            from packaging.markers import default_environment

            return {key: str(value) for key, value in default_environment().items()}
        version = self.python
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{version}.0",
            "os_name": "posix",
            "platform_machine": machine,
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{version}.0",
            "platform_python_implementation": "CPython",
            "python_version": version,
            "sys_platform": "linux",
        }


def _host_glibc() -> tuple[int, int]:
    name, version = platform.libc_ver()
    if name != "glibc" or not version:
        return (99, 99)
    major, _, minor = version.partition(".")
    return (int(major), int(minor.split(".")[0] or 0))
