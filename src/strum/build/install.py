"""Installing dependencies for a target, safely, into a deterministic zip.

pip does the resolving and installing (``pip install --target``); for a target other than
the host it installs manylinux wheels for the target's architecture and Python version.
A package with no such wheel is built from its sdist on the host when it is pure Python;
otherwise the build stops with an error naming the package, the target and the fix.

pip and any third-party build code run in a subprocess with a scrubbed environment: no
``AWS_*`` or other credential-looking variables, ``HOME`` pointed at an empty temporary
directory - a malicious package's setup.py cannot read the user's cloud credentials.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from strum.build.sources import Dependencies, DependencyError
from strum.build.target import Target

# The AWS Python runtimes provide these; shipping them only adds megabytes.
AWS_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
_SECRETISH = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_?KEY|SESSION)", re.I)
# Configuration pip and TLS need, kept even when a name looks secret-ish (an index URL with a
# token is how private indexes are reached).
_KEEP_PREFIXES = (
    "PIP_",
    "UV_",
    "SSL_",
    "REQUESTS_CA",
    "CURL_CA",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
)

Progress = Callable[[str], None]


def scrubbed_environment(home: Path) -> dict[str, str]:
    """The environment dependency installs run with: no credentials, an empty ``HOME``."""
    env = {}
    for name, value in os.environ.items():
        upper = name.upper()
        if upper.startswith(_KEEP_PREFIXES) or upper in (
            "PATH",
            "LANG",
            "LC_ALL",
            "TMPDIR",
            "PYTHONPATH",
        ):
            env[name] = value
            continue
        if upper.startswith(("AWS_", "AZURE_", "GOOGLE_", "GCP_", "STRUM_")) or _SECRETISH.search(
            upper
        ):
            continue
        if upper.startswith(("LC_", "XDG_")) or upper in ("TERM", "TZ"):
            env[name] = value
    env["HOME"] = str(home)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def install(deps: Dependencies, target: Target, site: Path, progress: Progress) -> None:
    """Install ``deps`` for ``target`` into the directory ``site``."""
    with tempfile.TemporaryDirectory(prefix="strum-build-") as scratch:
        scratch_path = Path(scratch)
        home = scratch_path / "home"
        home.mkdir()
        env = scrubbed_environment(home)
        if target.native:
            progress(f"installing {len(deps.requirements)} requirement(s) from {deps.source}")
            _pip(
                [
                    "install",
                    "--target",
                    str(site),
                    "--no-compile",
                    "--no-warn-script-location",
                    *(["--no-deps"] if deps.locked else []),
                    *deps.requirements,
                ],
                env,
                target,
            )
        else:
            wheelhouse = scratch_path / "wheels"
            wheelhouse.mkdir()
            _download_for_target(deps, target, wheelhouse, env, progress)
            wheels = sorted(str(p) for p in wheelhouse.glob("*.whl"))
            progress(f"installing {len(wheels)} wheel(s) for {target.key}")
            _pip(
                [
                    "install",
                    "--target",
                    str(site),
                    "--no-compile",
                    "--no-deps",
                    "--no-index",
                    "--no-warn-script-location",
                    *_platform_flags(target),
                    *wheels,
                ],
                env,
                target,
            )
    _tidy(site, target, deps)


def _platform_flags(target: Target) -> list[str]:
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", target.python]
    for tag in target.platform_tags():
        flags += ["--platform", tag]
    for abi in (target.abi, "abi3", "none"):
        flags += ["--abi", abi]
    return flags


_NO_DISTRIBUTION = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the requirement) ([A-Za-z0-9_.\-\[\]]+)"
)


def _download_for_target(
    deps: Dependencies, target: Target, wheelhouse: Path, env: dict[str, str], progress: Progress
) -> None:
    """Fill ``wheelhouse`` with wheels for the target, building pure-Python sdists on the host."""
    progress(f"resolving {len(deps.requirements)} requirement(s) for {target.key}")
    built: set[str] = set()
    for _ in range(20):  # one round per sdist-only package; bounded
        result = _pip(
            [
                "download",
                "--dest",
                str(wheelhouse),
                "--find-links",
                str(wheelhouse),
                *(["--no-deps"] if deps.locked else []),
                *_platform_flags(target),
                *deps.requirements,
            ],
            env,
            target,
            check=False,
        )
        if result.returncode == 0:
            return
        missing = _NO_DISTRIBUTION.search(result.stderr)
        if not missing:
            raise DependencyError(
                f"pip could not resolve the dependencies for {target.key}:\n{_tail(result.stderr)}"
            )
        requirement = missing.group(1)
        pinned = next(
            (line for line in deps.requirements if _same_name(line, requirement)), requirement
        )
        if pinned in built:
            raise DependencyError(
                f"pip could not resolve {requirement} for {target.key}:\n{_tail(result.stderr)}"
            )
        progress(f"building {pinned} from source (no wheel for {target.key})")
        before = set(wheelhouse.glob("*.whl"))
        build = _pip(
            ["wheel", "--no-deps", "--wheel-dir", str(wheelhouse), pinned], env, None, check=False
        )
        made = set(wheelhouse.glob("*.whl")) - before
        if build.returncode != 0 or not made:
            raise DependencyError(
                f"{pinned} has no wheel for {target.key} and its sdist did not build:\n{_tail(build.stderr)}"
            )
        for wheel in made:
            if not wheel.name.endswith("-none-any.whl"):
                wheel.unlink()
                raise DependencyError(
                    f"{pinned} has no wheel for {target.key} (Python {target.python}, "
                    f"{target.architecture} Linux) and needs compiling. Fix: pick a version that "
                    "publishes manylinux wheels for that target, or set `python` / "
                    "`architecture` to match a machine that can build it, or build on that "
                    "machine (e.g. a matching Linux CI runner)."
                )
        built.add(pinned)
    raise DependencyError("too many packages without wheels; giving up")


def _same_name(line: str, name: str) -> bool:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(line).name) == canonicalize_name(
            Requirement(name).name
        )
    except Exception:
        return False


def _pip(
    args: list[str], env: dict[str, str], target: Target | None, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pip", *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if check and result.returncode != 0:
        where = f" for {target.key}" if target else ""
        raise DependencyError(f"installing dependencies{where} failed:\n{_tail(result.stderr)}")
    return result


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _tidy(site: Path, target: Target, deps: Dependencies) -> None:
    """Drop what a function never uses: console scripts, caches, AWS-provided SDKs."""
    for leftover in ("bin", "__pycache__"):
        shutil.rmtree(site / leftover, ignore_errors=True)
    if target.provider != "aws":
        return
    from packaging.utils import canonicalize_name

    for entry in site.iterdir():
        name = entry.name
        base = name.split("-", 1)[0] if name.endswith((".dist-info", ".data")) else name
        canonical = canonicalize_name(base)
        if canonical in AWS_PROVIDED and canonical not in deps.direct:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
