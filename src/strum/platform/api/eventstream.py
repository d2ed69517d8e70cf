"""AWS's event-stream framing (``application/vnd.amazon.eventstream``), the encoding side.

InvokeWithResponseStream answers with a stream of these messages, which botocore parses
(``botocore.eventstream``). Written here by hand because no maintained Python library
encodes them on its own: botocore ships only the parser, and awscrt's encoder lives inside
its native RPC client connection (no standalone call), at the price of a large native
dependency. The framing is small and fixed: a 12-byte prelude (total length, headers
length, CRC32 of those eight bytes), the headers, the payload, and a CRC32 of everything
before it; all integers big-endian ("Event stream encoding", AWS Transcribe/Lambda docs).
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["CONTENT_TYPE", "event_message"]

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7  # the header value type "string": a 2-byte length, then UTF-8


def _header(name: str, value: str) -> bytes:
    name_bytes, value_bytes = name.encode(), value.encode()
    return (
        struct.pack(">B", len(name_bytes))
        + name_bytes
        + struct.pack(">BH", _STRING, len(value_bytes))
        + value_bytes
    )


def event_message(event_type: str, payload: bytes, content_type: str) -> bytes:
    """One ``event`` message of type ``event_type`` (``PayloadChunk``, ``InvokeComplete``)."""
    headers = b"".join(
        (
            _header(":event-type", event_type),
            _header(":content-type", content_type),
            _header(":message-type", "event"),
        )
    )
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + payload
    return message + struct.pack(">I", zlib.crc32(message))
