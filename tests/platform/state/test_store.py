"""The store and the code store, directly: SQLite state, versions, aliases, URL configs,
content-addressed packages, safe unpacking."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from strum.platform.errors import (
    InvalidParameterValue,
    PreconditionFailed,
    ResourceConflict,
    ResourceNotFound,
)
from strum.platform.home import Home
from strum.platform.invoke import resolve_spec
from strum.platform.state import AliasRecord, CodeStore, Store, code_sha256, parse_function_name
from tests.platform.packages import make_zip

CONFIG = {"Runtime": "python3.11", "Handler": "app.handler", "Role": "r", "Timeout": 3}


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home")


@pytest.fixture
def store(home: Home):
    opened = Store(home)
    yield opened
    opened.close()


def test_code_sha256_is_base64_of_the_digest(home: Home):
    data = make_zip({"app.py": "x = 1\n"})
    stored = CodeStore(home).put(data)
    digest = hashlib.sha256(data).digest()
    assert stored.sha_hex == digest.hex()
    assert stored.code_sha256 == base64.b64encode(digest).decode() == code_sha256(digest.hex())
    assert (home.code / f"{digest.hex()}.zip").read_bytes() == data


def test_a_package_is_unpacked_once_and_read_only(home: Home):
    codes = CodeStore(home)
    data = make_zip(
        {"app.py": "x = 1\n", "pkg/mod.py": "", "bootstrap": "#!/bin/sh\n"},
        modes={"bootstrap": 0o100755},
    )
    stored = codes.put(data)
    directory = codes.unpack(stored.sha_hex)
    assert directory == home.unpacked / stored.sha_hex
    assert (directory / "app.py").read_text() == "x = 1\n"
    assert stat.S_IMODE((directory / "app.py").stat().st_mode) == 0o444
    assert stat.S_IMODE((directory / "bootstrap").stat().st_mode) == 0o555
    assert stat.S_IMODE((directory / "pkg").stat().st_mode) == 0o555
    assert stat.S_IMODE(directory.stat().st_mode) == 0o555
    inode = directory.stat().st_ino
    assert codes.put(data).sha_hex == stored.sha_hex
    assert codes.unpack(stored.sha_hex).stat().st_ino == inode
    assert [p.name for p in home.unpacked.iterdir()] == [stored.sha_hex]


def test_an_unpacked_directory_lost_is_unpacked_again_from_the_stored_zip(home: Home):
    codes = CodeStore(home)
    stored = codes.put(make_zip({"app.py": "y = 2\n"}))
    directory = home.unpacked / stored.sha_hex
    directory.chmod(0o700)
    (directory / "app.py").unlink()
    directory.rmdir()
    assert (codes.unpack(stored.sha_hex) / "app.py").read_text() == "y = 2\n"


def test_leftover_temporaries_of_a_crash_are_swept(home: Home):
    home.ensure()
    leftover = home.unpacked / ".tmp-abc-123"
    (leftover / "sub").mkdir(parents=True)
    (leftover / "sub").chmod(0o555)
    CodeStore(home)
    assert not leftover.exists()


@pytest.mark.parametrize(
    ("entries", "fragment"),
    [
        ({"../evil.py": "x"}, "points outside the package"),
        ({"/etc/evil.py": "x"}, "points outside the package"),
        ({"a/../../evil.py": "x"}, "points outside the package"),
    ],
)
def test_zip_slip_is_refused(home: Home, entries: dict[str, str], fragment: str):
    with pytest.raises(InvalidParameterValue, match=fragment):
        CodeStore(home).put(make_zip(entries))
    assert list(home.code.iterdir()) == []


@pytest.mark.parametrize(
    ("target", "allowed"), [("../../etc", False), ("/etc", False), ("x", True)]
)
def test_symlinks_may_not_escape(home: Home, target: str, allowed: bool):
    data = make_zip({"dir/link": target, "dir/x": "1"}, modes={"dir/link": 0o120777})
    codes = CodeStore(home)
    if allowed:
        directory = codes.unpack(codes.put(data).sha_hex)
        assert (directory / "dir" / "link").read_text() == "1"
    else:
        with pytest.raises(InvalidParameterValue, match="symlink"):
            codes.put(data)


def test_not_a_zip_is_refused_with_aws_wording(home: Home):
    with pytest.raises(InvalidParameterValue, match="Could not unzip uploaded file"):
        CodeStore(home).put(b"definitely not a zip")


def test_functions_versions_and_qualifiers(store: Store):
    first = store.code.put(make_zip({"app.py": "v = 1\n"}))
    second = store.code.put(make_zip({"app.py": "v = 2\n"}))
    created = store.create_function("fn", dict(CONFIG), first)
    with pytest.raises(ResourceConflict):
        store.create_function("fn", dict(CONFIG), first)
    version_one = store.publish_version("fn")
    assert version_one.version == "1"
    assert store.publish_version("fn").version == "1"  # unchanged $LATEST: same version
    updated = store.update_code("fn", second, revision_id=created.revision_id)
    with pytest.raises(PreconditionFailed):
        store.update_code("fn", first, revision_id=created.revision_id)
    assert store.publish_version("fn", description="second").version == "2"
    assert store.function("fn", "1").code_sha == first.sha_hex
    assert store.function("fn").code_sha == updated.code_sha == second.sha_hex
    assert store.function("fn", "2").config["Description"] == "second"
    assert [r.version for r in store.list_versions("fn")] == ["$LATEST", "1", "2"]
    with pytest.raises(ResourceNotFound, match="function:fn:7"):
        store.function("fn", "7")
    with pytest.raises(InvalidParameterValue, match="CodeSHA256"):
        store.publish_version("fn", code_sha_hex=first.sha_hex)


def test_version_numbers_are_never_reused(store: Store):
    code = store.code.put(make_zip({"app.py": ""}))
    store.create_function("fn", dict(CONFIG), code)
    store.publish_version("fn")
    store.update_config("fn", {**CONFIG, "Timeout": 9})
    store.publish_version("fn")
    store.delete_version("fn", "2")
    store.update_config("fn", {**CONFIG, "Timeout": 10})
    assert store.publish_version("fn").version == "3"


def test_function_spec_follows_changes(store: Store):
    store.create_function(
        "fn",
        {**CONFIG, "Environment": {"Variables": {"B": "2", "A": "1"}}, "MemorySize": 256},
        store.code.put(make_zip({"app.py": ""})),
    )
    spec = resolve_spec(store, "fn", None)
    assert spec.version == "$LATEST"
    assert spec.environment == (("A", "1"), ("B", "2"))
    assert spec.memory_mb == 256
    assert spec.code_dir.is_dir()
    assert spec.reserved_concurrency is None
    store.put_concurrency("fn", 5)
    changed = resolve_spec(store, "fn", "$LATEST")
    assert changed.reserved_concurrency == 5
    store.update_config("fn", {**CONFIG, "Timeout": 30})
    assert resolve_spec(store, "fn").instance_key != spec.instance_key
    assert resolve_spec(store, "fn").timeout_s == 30


def test_url_configs_and_ports(store: Store):
    store.create_function("fn", dict(CONFIG), store.code.put(make_zip({"app.py": ""})))
    config = store.create_url_config(
        "fn", None, auth_type="NONE", cors={"AllowOrigins": ["*"]}, invoke_mode="BUFFERED"
    )
    assert config["key"] == "fn"
    assert config["port"] is None
    store.set_url_port("fn", 41234)
    assert store.get_url_config("fn")["port"] == 41234  # type: ignore[index]
    updated = store.update_url_config("fn", invoke_mode="RESPONSE_STREAM")
    assert updated["invoke_mode"] == "RESPONSE_STREAM"
    assert updated["cors"] == {"AllowOrigins": ["*"]}
    assert [c["key"] for c in store.list_url_configs()] == ["fn"]
    assert store.delete_function("fn") == ["fn"]
    assert store.get_url_config("fn") is None
    assert store.list_functions() == []


def test_everything_survives_reopening(home: Home):
    first = Store(home)
    first.create_function("fn", dict(CONFIG), first.code.put(make_zip({"app.py": ""})))
    first.publish_version("fn")
    first.create_alias(AliasRecord("fn", "live", "1", description="d"))
    first.put_concurrency("fn", 3)
    first.create_url_config("fn", "live", auth_type="AWS_IAM", cors={}, invoke_mode="BUFFERED")
    first.close()
    second = Store(home)
    try:
        assert [f.name for f in second.list_functions()] == ["fn"]
        assert second.alias("fn", "live").description == "d"
        assert second.concurrency("fn") == 3
        assert second.get_url_config("fn:live")["auth_type"] == "AWS_IAM"  # type: ignore[index]
        assert resolve_spec(second, "fn", "live").version == "1"
    finally:
        second.close()


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("fn", ("fn", None)),
        ("fn:live", ("fn", "live")),
        ("fn:$LATEST", ("fn", "$LATEST")),
        ("123456789012:function:fn", ("fn", None)),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:3", ("fn", "3")),
    ],
)
def test_function_references(reference: str, expected: tuple[str, str | None]):
    assert parse_function_name(reference) == expected


def test_bad_function_reference():
    with pytest.raises(ResourceNotFound):
        parse_function_name("arn:aws:s3:::bucket")
