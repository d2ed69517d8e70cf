"""The platform calls that move packages: inline or staged zips, and the layer routes.

Part of ``PlatformLambdaAPI`` (which inherits them): how a request carries a zip - base64
in the JSON body when small, else streamed to ``/strum/v1/uploads/<sha256>`` first - and
the calls a local deploy makes about its dependency layer.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from strum.errors import StrumError

__all__ = ["INLINE_LIMIT", "PackageCalls"]

# Packages up to this size travel inline (base64 in the JSON body); bigger ones are staged
# with a streamed upload: no base64 (a third more bytes), no 50 MB limit, and the platform
# never holds the request in memory.
INLINE_LIMIT = 8 * 1024 * 1024


def _file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PackageCalls:
    """Package and layer calls over ``_call`` (provided by ``PlatformLambdaAPI``)."""

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | bytes | BinaryIO | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _pages(self, path: str, field: str) -> list[dict[str, Any]]:
        """Every item of a paged Lambda list (``Marker`` / ``NextMarker``)."""
        items: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            page = self._call("GET", path, query={"Marker": marker} if marker else None)
            items.extend(page.get(field) or [])
            marker = page.get("NextMarker")
            if not marker:
                return items

    def _content(self, package: Path | bytes) -> dict[str, str]:
        """How a request carries a zip: inline (base64) when small, else staged first
        (``upload``) and named by the bucket and key the platform answered with."""
        size = len(package) if isinstance(package, bytes) else package.stat().st_size
        if size <= INLINE_LIMIT:
            data = package if isinstance(package, bytes) else package.read_bytes()
            return {"ZipFile": base64.b64encode(data).decode()}
        return self.upload(package)

    def upload(self, package: Path | bytes) -> dict[str, str]:
        """Stage a zip on the platform (``PUT /strum/v1/uploads/<sha256>``), streamed from
        disk and signed over its SHA-256; answers ``{"S3Bucket", "S3Key"}``."""
        if isinstance(package, bytes):
            digest, size = hashlib.sha256(package).hexdigest(), len(package)
        else:
            digest, size = _file_sha256(package), Path(package).stat().st_size
        headers = {
            "Content-Type": "application/zip",
            "Content-Length": str(size),
            "X-Amz-Content-Sha256": digest,
        }
        if isinstance(package, bytes):
            answer = self._call("PUT", f"/strum/v1/uploads/{digest}", package, headers=headers)
        else:
            with open(package, "rb") as stream:
                answer = self._call("PUT", f"/strum/v1/uploads/{digest}", stream, headers=headers)
        return {"S3Bucket": str(answer["S3Bucket"]), "S3Key": str(answer["S3Key"])}

    # -- layers -----------------------------------------------------------------------

    def publish_layer_version(
        self,
        name: str,
        zip_path: Path,
        description: str,
        runtimes: list[str],
        sha256: str | None = None,
    ) -> dict[str, Any]:
        """``PublishLayerVersion`` with the zip at ``zip_path``. Given its ``sha256`` (hex),
        the zip is first named by it, and sent only if the platform does not have it."""
        path = f"/2018-10-31/layers/{quote(name, safe='')}/versions"
        body: dict[str, Any] = {"Description": description, "CompatibleRuntimes": runtimes}
        if sha256 is not None:
            named = {"S3Bucket": "strum-uploads", "S3Key": f"{sha256}.zip"}
            try:
                return self._call("POST", path, {**body, "Content": named})
            except StrumError as exc:  # the client's LambdaAPIError
                if "NoSuchKey" not in str(exc):
                    raise
        return self._call("POST", path, {**body, "Content": self._content(zip_path)})

    def find_layer_version(self, name: str, description: str) -> str | None:
        """The ARN of the newest version of layer ``name`` described as ``description``
        (strum writes the content's hash there), or None."""
        for version in self.layer_versions(name):
            if version.get("Description") == description:
                return str(version["LayerVersionArn"])
        return None

    def layer_versions(self, name: str) -> list[dict[str, Any]]:
        """``ListLayerVersions``, every page (newest first)."""
        return self._pages(f"/2018-10-31/layers/{quote(name, safe='')}/versions", "LayerVersions")

    def layers_in_use(self) -> set[str]:
        """The layer version ARNs any function's ``$LATEST`` or published version uses."""
        used: set[str] = set()
        marker: str | None = None
        while True:
            query = {"FunctionVersion": "ALL", **({"Marker": marker} if marker else {})}
            page = self._call("GET", "/2015-03-31/functions", query=query)
            for function in page.get("Functions", []):
                used.update(str(layer["Arn"]) for layer in function.get("Layers") or ())
            marker = page.get("NextMarker")
            if not marker:
                return used

    def delete_layer_version(self, name: str, version: int) -> None:
        self._call("DELETE", f"/2018-10-31/layers/{quote(name, safe='')}/versions/{version}")
