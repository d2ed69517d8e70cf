"""Response streaming: what a handler returns to stream its response.

A handler that returns a :class:`StreamingResponse` has its chunks sent to the Runtime API
one by one as they are produced (``Lambda-Runtime-Function-Response-Mode: streaming``),
instead of being buffered into one JSON document. This is the generic transport only;
``strum.adapter`` builds HTTP responses for function URLs on top of it (content type
``application/vnd.awslambda.http-integration-response``: a JSON prelude, eight NUL bytes,
then the body).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


class StreamingResponse:
    """A response whose body is sent to the caller chunk by chunk as it is produced.

    ``content_type`` becomes the ``Content-Type`` of the streamed response; ``chunks`` is
    any iterable of bytes-like objects (a generator is typical), consumed exactly once by
    the runtime, each chunk written to the Runtime API as soon as it is yielded. Empty
    chunks are skipped. If iterating raises, the runtime ends the stream with the error
    trailers AWS defines, so the caller sees a function error instead of a truncated
    success; a generator is closed if the connection fails underneath it.
    """

    __slots__ = ("chunks", "content_type")

    def __init__(
        self,
        content_type: str = "application/octet-stream",
        chunks: Iterable[bytes | bytearray | memoryview] = (),
    ) -> None:
        self.content_type = content_type
        self.chunks = chunks

    def __repr__(self) -> str:
        return f"StreamingResponse(content_type={self.content_type!r}, chunks={self.chunks!r})"
