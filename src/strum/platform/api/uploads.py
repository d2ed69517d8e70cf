"""Packages too big to send inline: the platform's own stand-in for staging them in S3.

Lambda takes a zip inline (base64 in the JSON body) up to 50 MB; anything larger goes to S3
first and the request names its bucket and key. The platform has no S3, so it stages the
zip itself: ``PUT /strum/v1/uploads/<sha256 hex>`` streams the raw bytes to disk (never
held in memory, never base64), signed with SigV4 over the body's SHA-256 in
``x-amz-content-sha256`` - the access middleware checks the signature before the body is
read, and this route holds the body to that digest and to the one in its path, so a
signature cannot be replayed with other content. A request then names the upload as
``{"S3Bucket": "strum-uploads", "S3Key": "<sha256 hex>.zip"}`` in ``Code`` (CreateFunction,
UpdateFunctionCode) or ``Content`` (PublishLayerVersion); staged uploads are kept for a
day. A key also finds a package the platform already stores under that hash, so content
it has is never sent twice; a name (the content's hash) is a secret only as far as the
content is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from strum.platform.api._http import answering_errors, json_response
from strum.platform.errors import InvalidParameterValue, RequestEntityTooLarge
from strum.platform.state import CodeStore, StoredCode

__all__ = ["UPLOAD_BUCKET", "UPLOAD_ROUTE", "PackageSource", "add_routes"]

UPLOAD_BUCKET = "strum-uploads"
UPLOAD_ROUTE = "/strum/v1/uploads/{sha}"
# "Lambda quotas": 50 MB zipped for a direct upload; the request carrying it in base64 is
# refused above 69905067 bytes (4/3 of it), in these words.
MAX_DIRECT_BYTES = 50 * 1024 * 1024
MAX_REQUEST_BYTES = 69_905_067
# A zip cannot usefully be larger than what it unzips to (250 MB).
MAX_UPLOAD_BYTES = 262_144_000 + 1024 * 1024
_KEEP_SECONDS = 24 * 3600
_SHA = re.compile(r"^[0-9a-f]{64}$")


def too_large(operation: str) -> RequestEntityTooLarge:
    """AWS's answer to an inline package over the limit of ``operation``."""
    return RequestEntityTooLarge(
        f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the {operation} operation"
    )


class PackageSource:
    """Where a request's package comes from: inline ``ZipFile`` or a staged upload."""

    def __init__(self, code: CodeStore, directory: Path) -> None:
        self.code = code
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def store(self, source: object, operation: str) -> StoredCode:
        """Store the package ``source`` (a ``Code`` or ``Content`` object) names."""
        if not isinstance(source, dict):
            raise InvalidParameterValue(
                "Code must be an object with a ZipFile, or S3Bucket and S3Key"
            )
        if source.get("ImageUri"):
            raise InvalidParameterValue(
                "strum's platform runs .zip packages only; container images are not supported"
            )
        if source.get("S3Bucket") or source.get("S3Key"):
            return self.code.put(self._staged(source))
        encoded = source.get("ZipFile")
        if not isinstance(encoded, str) or not encoded:
            raise InvalidParameterValue("Please provide a source for function code: ZipFile")
        if len(encoded) > MAX_REQUEST_BYTES:
            raise too_large(operation)
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidParameterValue("ZipFile must be base64-encoded zip bytes") from exc
        if len(data) > MAX_DIRECT_BYTES:
            raise too_large(operation)
        return self.code.put(data)

    def _staged(self, source: dict[str, Any]) -> bytes:
        bucket, key = source.get("S3Bucket"), source.get("S3Key")
        if bucket != UPLOAD_BUCKET:
            raise InvalidParameterValue(
                "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: "
                f"The specified bucket does not exist (strum's platform stages packages in "
                f"{UPLOAD_BUCKET!r}: PUT /strum/v1/uploads/<sha256>)"
            )
        name = str(key or "").removesuffix(".zip")
        path = self.directory / f"{name}.zip"
        if _SHA.match(name) and not path.is_file():
            # Content the platform already stores needs no second upload: a deploy names
            # its layer by hash and sends it only when this answers NoSuchKey.
            path = self.code.zip_path(name)
        if not _SHA.match(name) or not path.is_file():
            raise InvalidParameterValue(
                "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: "
                "The specified key does not exist."
            )
        return path.read_bytes()

    async def receive(self, request: web.Request) -> web.StreamResponse:
        """``PUT /strum/v1/uploads/<sha>``: stream the body to disk, hold it to its hash."""
        sha = request.match_info["sha"]
        if not _SHA.match(sha):
            raise InvalidParameterValue("An upload is named by its SHA-256 in lower-case hex")
        if request.headers.get("x-amz-content-sha256") != sha:
            raise InvalidParameterValue(
                "An upload must be signed with x-amz-content-sha256 equal to the SHA-256 in "
                "its path"
            )
        if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES:
            raise too_large("upload")
        self._sweep()
        final = self.directory / f"{sha}.zip"
        digest = hashlib.sha256()
        size = 0
        descriptor, temporary = tempfile.mkstemp(prefix=".tmp-", dir=self.directory)
        try:
            with os.fdopen(descriptor, "wb") as sink:
                async for chunk in request.content.iter_chunked(1 << 20):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise too_large("upload")
                    digest.update(chunk)
                    sink.write(chunk)
            if digest.hexdigest() != sha:
                raise InvalidParameterValue(
                    f"The upload's SHA-256 is {digest.hexdigest()}, not {sha} as signed: it "
                    "was changed or cut short on the way; send it again"
                )
            os.replace(temporary, final)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return json_response(
            {"S3Bucket": UPLOAD_BUCKET, "S3Key": f"{sha}.zip", "Size": size}, status=201
        )

    def _sweep(self) -> None:
        cutoff = time.time() - _KEEP_SECONDS
        for path in self.directory.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                continue


def add_routes(app: web.Application, source: PackageSource) -> None:
    """Register the upload route on ``app``."""
    app.router.add_put(UPLOAD_ROUTE, answering_errors(source.receive))
