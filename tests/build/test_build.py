"""Real builds against the package registry: determinism, caching, targets, lock formats, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from strum.build import PackageSpec, Target, build
from strum.build.install import scrubbed_environment
from strum.build.sources import DependencyError, find_dependencies

HOST = Target.local()
AWS_X86 = Target(HOST.python, "x86_64", "aws")
AWS_ARM = Target(HOST.python, "arm64", "aws")
OTHER_PYTHON = Target("3.12" if HOST.python != "3.12" else "3.13", "x86_64", "aws")

APP = "from flask import Flask\napp = Flask(__name__)\n"


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def spec(root: Path, target: Target, cache: Path, **extra) -> PackageSpec:
    return PackageSpec(
        root, "demo", target, {"version": 1, "app": "app:app"}, cache_dir=cache, **extra
    )


def names(archive: Path | None) -> list[str]:
    assert archive is not None
    with zipfile.ZipFile(archive) as opened:
        return opened.namelist()


def so_machine(data: bytes) -> str:
    # ELF e_machine at offset 18: 0x3E x86-64, 0xB7 AArch64.
    return {0x3E: "x86_64", 0xB7: "arm64"}[int.from_bytes(data[18:20], "little")]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_code_zip_has_app_runtime_and_manifest_but_no_clutter(tmp_path, cache):
    root = project(
        tmp_path,
        {
            "app.py": APP,
            "pkg/__init__.py": "",
            "tests/test_app.py": "",
            ".venv/lib/x.py": "",
            "node_modules/x.js": "",
            "notes.md": "",
            "data/big.bin": "x",
        },
    )
    artifact = build(spec(root, HOST, cache, exclude=("data/**",)))
    contents = names(artifact.code_zip)
    assert "app.py" in contents and "pkg/__init__.py" in contents and "notes.md" in contents
    assert not [n for n in contents if n.startswith(("tests/", ".venv/", "node_modules/", "data/"))]
    assert "strum/runtime/entry.py" in contents and "strum/adapter/__init__.py" in contents
    assert not [n for n in contents if n.startswith(("strum/cli", "strum/platform", "strum/build"))]
    manifest = json.loads(zipfile.ZipFile(artifact.code_zip).read("strum_manifest.json"))
    assert manifest == {"version": 1, "app": "app:app"}
    assert f"__pycache__/app.{sys.implementation.cache_tag}.pyc" in contents
    assert artifact.deps_zip is None and artifact.dependency_source == "none"


def test_builds_are_byte_identical_and_named_by_content(tmp_path, cache):
    root = project(tmp_path, {"app.py": APP, "requirements.txt": "itsdangerous==2.2.0\n"})
    first = build(spec(root, AWS_X86, cache, out_dir=tmp_path / "a"))
    second = build(spec(root, AWS_X86, cache, out_dir=tmp_path / "b"))
    assert first.code_zip.read_bytes() == second.code_zip.read_bytes()
    assert first.code_zip.name == second.code_zip.name
    assert first.code_sha256[:20] in first.code_zip.name
    assert first.deps_zip == second.deps_zip  # one cached layer


def test_rebuild_with_nothing_changed_is_fast_and_code_change_keeps_the_layer(tmp_path, cache):
    root = project(tmp_path, {"app.py": APP, "requirements.txt": "itsdangerous==2.2.0\n"})
    first = build(spec(root, HOST, cache))
    started = time.perf_counter()
    again = build(spec(root, HOST, cache))
    assert time.perf_counter() - started < 1.0
    assert again.code_sha256 == first.code_sha256
    (root / "app.py").write_text(APP + "# changed\n")
    changed = build(spec(root, HOST, cache))
    assert changed.code_sha256 != first.code_sha256
    assert changed.deps_zip == first.deps_zip


@pytest.mark.parametrize(("target", "machine"), [(AWS_X86, "x86_64"), (AWS_ARM, "arm64")])
def test_compiled_wheels_match_the_target_architecture(tmp_path, cache, target, machine):
    root = project(tmp_path, {"app.py": APP, "requirements.txt": "markupsafe==3.0.2\n"})
    artifact = build(spec(root, target, cache))
    assert artifact.deps_zip is not None
    with zipfile.ZipFile(artifact.deps_zip) as layer:
        libraries = [n for n in layer.namelist() if n.endswith(".so")]
        assert libraries
        assert {so_machine(layer.read(n)) for n in libraries} == {machine}


def test_aws_target_leaves_out_the_sdk_unless_pinned(tmp_path, cache):
    # s3transfer is asked for directly, so it stays; botocore only comes with it: left out.
    root = project(tmp_path, {"app.py": APP, "requirements.txt": "s3transfer==0.10.4\n"})
    contents = names(build(spec(root, AWS_X86, cache)).deps_zip)
    assert [n for n in contents if n.startswith("s3transfer/")]
    assert not [n for n in contents if n.startswith("botocore")]
    assert [n for n in contents if n.startswith("jmespath")]  # other dependencies stay
    local = names(build(spec(root, HOST, cache)).deps_zip)
    assert [n for n in local if n.startswith("botocore/")]  # the local target has no SDK


def test_lock_formats(tmp_path):
    root = project(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "demo"\nversion = "1"\n'
            'dependencies = ["flask>=3"]\n[dependency-groups]\ndev = ["pytest"]\n',
            "uv.lock": """
version = 1
[[package]]
name = "demo"
version = "1"
source = { editable = "." }
dependencies = [{ name = "flask" }, { name = "colorama", marker = "sys_platform == 'win32'" }]
[package.dev-dependencies]
dev = [{ name = "pytest" }]
[[package]]
name = "flask"
version = "3.1.0"
dependencies = [{ name = "werkzeug" }]
[[package]]
name = "werkzeug"
version = "3.1.3"
[[package]]
name = "colorama"
version = "0.4.6"
[[package]]
name = "pytest"
version = "8.0.0"
""",
        },
    )
    deps = find_dependencies(root, AWS_X86)
    assert deps.source == "uv.lock"
    assert deps.requirements == ("flask==3.1.0", "werkzeug==3.1.3")
    (root / "uv.lock").unlink()
    (root / "pylock.toml").write_text(
        'lock-version = "1.0"\n[[packages]]\nname = "flask"\nversion = "3.1.0"\n'
        '[[packages]]\nname = "pywin32"\nversion = "306"\nmarker = "sys_platform == \'win32\'"\n'
    )
    assert find_dependencies(root, AWS_X86).requirements == ("flask==3.1.0",)
    (root / "pylock.toml").unlink()
    (root / "poetry.lock").write_text(
        '[[package]]\nname = "flask"\nversion = "3.1.0"\n[package.dependencies]\n'
        'werkzeug = ">=3"\n[[package]]\nname = "werkzeug"\nversion = "3.1.3"\n'
        '[[package]]\nname = "pytest"\nversion = "8.0.0"\n'
    )
    assert find_dependencies(root, AWS_X86).requirements == ("flask==3.1.0", "werkzeug==3.1.3")
    (root / "poetry.lock").unlink()
    (root / "requirements.txt").write_text("flask>=3  # web\n-r more.txt\n")
    (root / "more.txt").write_text("pyyaml==6.0.2; sys_platform == 'linux'\n")
    assert find_dependencies(root, AWS_X86).requirements == (
        "flask>=3",
        "pyyaml==6.0.2; sys_platform == 'linux'",
    )
    (root / "requirements.txt").unlink()
    assert find_dependencies(root, AWS_X86).requirements == ("flask>=3",)


def test_path_requirements_are_refused(tmp_path):
    root = project(tmp_path, {"requirements.txt": "-e ./mylib\n"})
    with pytest.raises(DependencyError, match="path or URL requirement"):
        find_dependencies(root, AWS_X86)


def test_unresolvable_requirement_is_a_clear_error(tmp_path, cache):
    root = project(tmp_path, {"app.py": "", "requirements.txt": "flask==0.0.1\n"})
    with pytest.raises(DependencyError, match=r"flask==0\.0\.1"):
        build(spec(root, AWS_X86, cache))


def _sdist(tmp_path: Path, name: str, *, compiled: bool) -> Path:
    """Build a tiny sdist whose setup.py records the environment it ran in."""
    source = tmp_path / f"src-{name}"
    (source / name).mkdir(parents=True)
    (source / name / "__init__.py").write_text("")
    if compiled:
        (source / "ext.c").write_text(
            '#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "ext"};\n'
            "PyMODINIT_FUNC PyInit_ext(void) { return PyModule_Create(&m); }\n"
        )
    (source / "setup.py").write_text(
        "import json, os\nfrom setuptools import setup, Extension\n"
        f"open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '{name}', 'env.json'), 'w')"
        ".write(json.dumps(dict(os.environ)))\n"
        f"setup(name='{name}', version='1.0', packages=['{name}'], "
        f"package_data={{'{name}': ['env.json']}}, "
        + ("ext_modules=[Extension('ext', ['ext.c'])]" if compiled else "")
        + ")\n"
    )
    dist = tmp_path / "dists"
    dist.mkdir(exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-w",
            str(tmp_path / "ignored"),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "-d", str(dist)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    return dist


def test_pure_sdists_are_built_and_build_code_sees_no_credentials(tmp_path, monkeypatch):
    dist = _sdist(tmp_path, "strumpure", compiled=False)
    monkeypatch.setenv("PIP_FIND_LINKS", str(dist))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    monkeypatch.setenv("GITHUB_TOKEN", "do-not-leak")
    root = project(tmp_path, {"app.py": "", "requirements.txt": "strumpure==1.0\n"})
    artifact = build(spec(root, OTHER_PYTHON, tmp_path / "cache"))
    with zipfile.ZipFile(artifact.deps_zip) as layer:
        seen = json.loads(layer.read("strumpure/env.json"))
    assert "do-not-leak" not in json.dumps(seen)
    assert "AWS_SECRET_ACCESS_KEY" not in seen and "GITHUB_TOKEN" not in seen
    assert seen["HOME"] != str(Path.home())


def test_sdists_that_need_compiling_for_another_target_fail_clearly(tmp_path, monkeypatch):
    dist = _sdist(tmp_path, "strumnative", compiled=True)
    monkeypatch.setenv("PIP_FIND_LINKS", str(dist))
    root = project(tmp_path, {"app.py": "", "requirements.txt": "strumnative==1.0\n"})
    with pytest.raises(
        DependencyError,
        match=r"strumnative==1\.0 has no wheel for aws-py3\.\d+-arm64 .* needs compiling",
    ):
        build(spec(root, AWS_ARM, tmp_path / "cache"))


def test_scrubbed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("MY_API_KEY", "x")
    monkeypatch.setenv("PIP_INDEX_URL", "https://token@example/simple")
    env = scrubbed_environment(tmp_path)
    assert "AWS_ACCESS_KEY_ID" not in env and "MY_API_KEY" not in env
    assert env["PIP_INDEX_URL"] == "https://token@example/simple"
    assert env["HOME"] == str(tmp_path)


def test_a_project_strum_module_cannot_shadow_the_runtime(tmp_path, cache):
    root = project(tmp_path, {"app.py": "", "strum/__init__.py": ""})
    with pytest.raises(ValueError, match="shadow"):
        build(spec(root, HOST, cache))


def test_importing_an_excluded_project_module_is_a_warning(tmp_path, cache):
    root = project(
        tmp_path,
        {
            "app.py": "import json\nfrom tests.helpers import fixture\nimport flask\n",
            "shop/__init__.py": "",
            "shop/views.py": "from . import models\nfrom ..tests import helpers\n",
            "shop/models.py": "from scratch import notes\n",
            "scratch/notes.py": "",
            "tests/__init__.py": "",
            "tests/helpers.py": "fixture = 1\n",
        },
    )
    notes = build(spec(root, HOST, cache, exclude=("scratch",))).notes
    warnings = [note for note in notes if "left out of the package" in note]
    assert warnings == [
        "app.py imports tests.helpers, but tests/helpers.py is left out of the package "
        '(default exclude "tests"); the function would fail with ModuleNotFoundError - add '
        'include = ["tests/helpers.py"] to the config, or stop importing it',
        "shop/models.py imports scratch.notes, but scratch/notes.py is left out of the "
        'package (your exclude "scratch"); the function would fail with ModuleNotFoundError - '
        'add include = ["scratch/notes.py"] to the config, or stop importing it',
        "shop/views.py imports tests, but tests/__init__.py is left out of the package "
        '(default exclude "tests"); the function would fail with ModuleNotFoundError - add '
        'include = ["tests/__init__.py"] to the config, or stop importing it',
    ]


def test_a_clean_project_gets_no_import_warning(tmp_path, cache):
    root = project(tmp_path, {"app.py": APP + "from shop import views\n", "shop/views.py": ""})
    assert not [n for n in build(spec(root, HOST, cache)).notes if "left out" in n]
