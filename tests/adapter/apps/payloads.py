"""What every parity app answers, so the four frameworks stay comparable."""

from __future__ import annotations

import gzip
import hashlib

# Not valid UTF-8: a body that only survives base64.
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
GZIP_JSON = gzip.compress(b'{"compressed": true}', mtime=0)
STREAM_CHUNKS = [b"first,", b"second,", b"third"]


def echo(method, path, root_path, query, multi, cookies, body, content_type):
    """The JSON an /echo route answers with."""
    return {
        "method": method,
        "path": path,
        "root_path": root_path,
        "query": sorted([k, v] for k, v in query),
        "multi": sorted(p.strip() for v in multi for p in v.split(",") if p.strip()),
        "cookies": dict(sorted(cookies.items())),
        "body_len": len(body),
        "body_sha": hashlib.sha256(body).hexdigest(),
        "content_type": content_type,
    }
