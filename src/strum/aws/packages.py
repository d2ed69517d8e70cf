"""The stage's packages as Lambda takes them: the app's own zip and a layer, and the zips a
deploy uploads (``strum package`` and ``strum template`` report and write them). No AWS call.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from strum.deploy.errors import DeployError
from strum.deploy.target import Upload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.build import Artifact

# Lambda takes zips up to 50 MB in the request itself (CreateFunction, UpdateFunctionCode,
# PublishLayerVersion); larger ones must come from S3.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024


def split_package(artifact: Artifact, cache: Path) -> tuple[Path, str, Path, str]:
    """The build's packages as Lambda wants them: (app zip, its SHA, layer zip, its SHA).

    strum's own runtime moves from the code zip into the layer, beside the dependencies
    (under ``python/``, which Lambda puts on ``sys.path``): it changes only when strum does,
    so a code change uploads the app's own files and manifest - a few KB - and nothing else.
    The router finds the manifest in the task root, where the app zip puts it. Both zips are
    deterministic and cached by content.
    """
    from strum.build.cache import touch
    from strum.build.zipfiles import Entry, file_sha256, write_zip, zip_entries

    app: list[Entry] = []
    runtime: list[Entry] = []
    for entry in zip_entries(artifact.code_zip):
        (runtime if entry.arcname.startswith("strum/") else app).append(entry)
    app_zip = cache / "packages" / f"aws-app-{artifact.code_sha256[:20]}.zip"
    if app_zip.exists():
        touch(app_zip)
    else:
        write_zip(app, app_zip)
    # Named by what goes in, so an unchanged runtime and lock never rebuild (or re-read)
    # the dependency zip.
    digest = hashlib.sha256(str(artifact.deps_sha256).encode())
    for entry in runtime:
        digest.update(b"\0" + entry.arcname.encode() + b"\0" + (entry.data or b""))
    layer_zip = cache / "layers" / f"aws-{digest.hexdigest()[:32]}.zip"
    if layer_zip.exists():
        touch(layer_zip)
    else:
        parts = runtime + (zip_entries(artifact.deps_zip) if artifact.deps_zip else [])
        entries = [
            Entry(f"python/{e.arcname}", data=e.data, executable=e.executable) for e in parts
        ]
        write_zip(entries, layer_zip)
    return app_zip, file_sha256(app_zip), layer_zip, file_sha256(layer_zip)


def deploy_uploads(
    artifact: Artifact,
    cache: Path,
    out_dir: Path | None = None,
    *,
    project: str = "",
    limit: int = DIRECT_UPLOAD_LIMIT,
) -> tuple[Upload, ...]:
    """The zips an AWS deploy of ``artifact`` uploads - ``split_package``'s, not the build's
    single code zip - copied into ``out_dir`` (named ``<project>-code|layer-<hash>.zip``,
    as ``strum template`` names them) when given. No AWS call."""
    code_zip, _, layer_zip, _ = split_package(artifact, cache)
    uploads = []
    for kind, path in (("code", code_zip), ("layer", layer_zip)):
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = copy_named(path, out_dir, f"{project}-{kind}" if project else kind)
        size = path.stat().st_size
        uploads.append(Upload(kind, path, size, size > limit))
    return tuple(uploads)


def copy_named(source: Path | None, directory: Path, stem: str) -> Path:
    """``source`` copied into ``directory`` as ``<stem>-<content hash>.zip`` (once)."""
    from strum.build.zipfiles import file_sha256

    if source is None:  # pragma: no cover - the build always makes the code zip
        raise DeployError("internal: a package to write was not built")
    target = directory / f"{stem}-{file_sha256(source)[:16]}.zip"
    if not target.exists():
        partial = target.with_suffix(".zip.partial")
        partial.write_bytes(source.read_bytes())
        partial.replace(target)
    return target
