"""A streamed invocation's body as its callers read it: chunks as they come, and how the
stream ended (``StreamFailed`` when the function failed after it began streaming).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from strum.platform.engine.instances import Invocation
from strum.platform.engine.logs import tail_of

__all__ = ["BodyStream", "StreamFailed"]


class StreamFailed(Exception):
    """A streamed response ended with the function's error (AWS's error trailers).

    Raised by the body iterator of ``Engine.invoke_stream`` after the chunks that were
    sent; ``error_type`` and ``document`` (the JSON error body) describe the failure.
    """

    def __init__(self, error_type: str, document: bytes) -> None:
        super().__init__(f"{error_type}: {document[:200]!r}")
        self.error_type = error_type
        self.document = document


class BodyStream:
    """The body of a streamed invocation: iterate it once for the chunks as they come.

    The iteration raises ``StreamFailed`` when the function failed after it started
    streaming; ``log_tail`` is the end of the invocation's log (when one was asked for)
    once the iteration is over.
    """

    def __init__(self, invocation: Invocation) -> None:
        self._invocation = invocation

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        invocation = self._invocation
        assert invocation.chunks is not None
        while (chunk := await invocation.chunks.get()) is not None:
            yield chunk
        outcome = invocation.outcome
        if outcome is not None and outcome.error_type is not None and outcome.streamed:
            raise StreamFailed(outcome.error_type, outcome.body)

    @property
    def log_tail(self) -> str | None:
        log = self._invocation.log
        return tail_of(log) if log is not None and self._invocation.settled else None
