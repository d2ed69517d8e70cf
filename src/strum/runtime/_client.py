"""A minimal HTTP/1.1 client for the Lambda Runtime API, on one kept-alive connection.

Why not ``http.client``: importing it pulls in ``email.parser`` and ``ssl`` (it defines
``HTTPSConnection`` at import time), measured at +25-40 ms of process start on our CI box,
which alone breaks the runtime's cold-start budget and makes it slower to boot than
``awslambdaric`` (whose hot path is a C extension). It also parses every response's headers
with the email parser and cannot send chunked trailers, which response streaming needs.
The peer is a Runtime API (AWS's, strum's platform, a test server), so the HTTP we need is
small: requests with a body or chunked streaming, responses with ``Content-Length``,
chunked encoding or close-delimited bodies.

``_socket`` is used instead of ``socket`` because ``socket.py`` builds several ``IntEnum``
classes at import time (a few ms) and we need none of what it adds.
"""

from __future__ import annotations

import _socket
import select

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

PREFIX = "/2018-06-01/runtime"
_RECV_SIZE = 65536
# Concatenating small bodies with their head saves a syscall and a TCP segment; past this
# size the copy costs more than the extra send.
_COALESCE_LIMIT = 65536


class RuntimeAPIError(Exception):
    """The Runtime API failed or answered in a way the runtime cannot continue from."""


class _ConnectionDropped(Exception):
    """The peer closed a kept-alive connection before answering; safe to retry once."""


class Response:
    """A Runtime API response: status code, lower-cased headers and the full body."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class RuntimeAPIClient:
    """Speaks the Runtime API at ``host:port`` over one kept-alive TCP connection.

    The connection is opened lazily and reused for every request; if the peer dropped it
    between invocations it is reopened once, transparently. Requests never time out: the
    ``GET /next`` long poll legitimately blocks for as long as the function is idle.
    """

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise RuntimeAPIError(f"AWS_LAMBDA_RUNTIME_API must be host:port, got {address!r}")
        self._host = host.strip("[]")
        self._port = int(port)
        self._host_header = address.encode("ascii")
        self._sock: _socket.socket | None = None
        self._buf = bytearray()
        self._reused = False  # the current connection has completed a response
        self.connects = 0  # how many TCP connections were opened (benchmarks, logs)
        self._next_request = self._head(b"GET", f"{PREFIX}/invocation/next", ())

    # -- the Runtime API -----------------------------------------------------------------

    def next_invocation(self, wait: Callable[[int], bool]) -> Response | None:
        """Long-poll for the next event; ``None`` if ``wait`` gave up (shutdown while idle).

        ``wait(fd)`` is called after the request is sent and must block until ``fd`` is
        readable (return True) or the runtime should stop (return False).
        """
        response = self._exchange(self._next_request, b"", wait)
        if response is not None and response.status != 200:
            raise RuntimeAPIError(
                f"GET /invocation/next answered {response.status}: {response.body[:500]!r}"
            )
        return response

    def post(self, path: str, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """POST ``body`` to ``PREFIX + path`` and return the response (any status)."""
        head = self._head(b"POST", PREFIX + path, (*headers, ("Content-Length", str(len(body)))))
        response = self._exchange(head, body, None)
        assert response is not None  # only a wait callback can abandon an exchange
        return response

    def post_stream(
        self,
        path: str,
        chunks: Iterator[bytes | bytearray | memoryview],
        headers: tuple[tuple[str, str], ...],
        on_error: Callable[[BaseException], tuple[tuple[str, str], ...]],
    ) -> Response:
        """POST a chunked body, sending each chunk as soon as ``chunks`` yields it.

        If ``chunks`` raises, ``on_error(exc)`` returns the trailers that end the body
        (AWS reports mid-stream failures in trailers, since the status line is long gone).
        ``http.client`` can send chunked bodies but not trailers, hence the framing here.
        """
        head = self._head(b"POST", PREFIX + path, (*headers, ("Transfer-Encoding", "chunked")))
        # A streamed body cannot be replayed, so the retry-once of other requests does not
        # apply; the stale-connection check in _ensure_connected covers the common case.
        sock = self._ensure_connected()
        try:
            sock.sendall(head)
            end = b"0\r\n\r\n"
            while True:
                try:
                    chunk = next(chunks)
                    if isinstance(chunk, memoryview):
                        chunk = chunk.tobytes()
                    elif not isinstance(chunk, (bytes, bytearray)):
                        raise TypeError(
                            f"streamed chunks must be bytes, not {type(chunk).__name__}"
                        )
                except StopIteration:
                    break
                except Exception as exc:
                    end = b"0\r\n" + self._fields(on_error(exc)) + b"\r\n"
                    break
                if chunk:
                    self._send_chunk(sock, chunk)
            sock.sendall(end)
            return self._read_response()
        except (OSError, _ConnectionDropped) as exc:
            self.close()
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # let a generator run its finally blocks
            raise RuntimeAPIError(f"connection lost while streaming a response: {exc}") from exc

    def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._buf.clear()
        self._reused = False

    # -- HTTP/1.1 --------------------------------------------------------------------------

    def _head(self, method: bytes, path: str, headers: tuple[tuple[str, str], ...]) -> bytes:
        return (
            method
            + b" "
            + path.encode("ascii")
            + b" HTTP/1.1\r\nHost: "
            + self._host_header
            + b"\r\nUser-Agent: strum-runtime\r\n"
            + self._fields(headers)
            + b"\r\n"
        )

    @staticmethod
    def _fields(headers: tuple[tuple[str, str], ...]) -> bytes:
        return b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers)

    @staticmethod
    def _send_chunk(sock: _socket.socket, chunk: bytes | bytearray) -> None:
        size = b"%x\r\n" % len(chunk)
        if len(chunk) <= _COALESCE_LIMIT:
            sock.sendall(size + chunk + b"\r\n")
        else:
            sock.sendall(size)
            sock.sendall(chunk)
            sock.sendall(b"\r\n")

    def _exchange(
        self, head: bytes, body: bytes, wait: Callable[[int], bool] | None
    ) -> Response | None:
        for attempt in (1, 2):
            sock = self._ensure_connected()
            reused = self._reused
            try:
                if body and len(body) <= _COALESCE_LIMIT:
                    sock.sendall(head + body)
                else:
                    sock.sendall(head)
                    if body:
                        sock.sendall(body)
                if wait is not None and not self._buf and not wait(sock.fileno()):
                    return None
                return self._read_response()
            except (OSError, _ConnectionDropped) as exc:
                self.close()
                # Only a kept-alive connection that died before answering is retried: a
                # fresh connection failing means the Runtime API itself is unreachable.
                if attempt == 2 or not reused:
                    raise RuntimeAPIError(f"Runtime API connection failed: {exc}") from exc
        raise AssertionError("unreachable")

    def _ensure_connected(self) -> _socket.socket:
        sock = self._sock
        if sock is not None and not self._buf:
            # A peer that closed the idle connection has left an EOF to read; noticing it
            # here (one zero-timeout select) avoids sending a request into a dead socket.
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                try:
                    alive = bool(sock.recv(1, _socket.MSG_PEEK))
                except OSError:
                    alive = False
                if not alive:
                    self.close()
                    sock = None
        if sock is None:
            sock = self._connect()
        return sock

    def _connect(self) -> _socket.socket:
        error: OSError | None = None
        # A bytes host skips the IDNA codec, whose import (stringprep, unicodedata) costs
        # more than everything else here; the Runtime API is an IP address or localhost.
        for family, kind, proto, _, address in _socket.getaddrinfo(
            self._host.encode("ascii"), self._port, 0, _socket.SOCK_STREAM
        ):
            sock = _socket.socket(family, kind, proto)
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            # Small writes (a response, one streamed chunk) must leave immediately, not wait
            # for Nagle's algorithm and the peer's delayed ACK (up to 40 ms per request).
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            self._sock = sock
            self._buf.clear()
            self._reused = False
            self.connects += 1
            return sock
        raise RuntimeAPIError(
            f"cannot connect to the Runtime API at {self._host}:{self._port}: {error}"
        )

    def _recv(self) -> bool:
        assert self._sock is not None
        data = self._sock.recv(_RECV_SIZE)
        self._buf += data
        return bool(data)

    def _read_response(self) -> Response:
        buf = self._buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            if not self._recv():
                if buf:
                    raise RuntimeAPIError("Runtime API closed the connection mid-response")
                raise _ConnectionDropped("connection closed before a response")
        lines = buf[:end].decode("latin-1").split("\r\n")
        del buf[: end + 4]
        version, _, rest = lines[0].partition(" ")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        keep_alive = headers.get("connection", "").lower() != "close" and (
            version != "HTTP/1.0" or headers.get("connection", "").lower() == "keep-alive"
        )
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:
            while self._recv():
                pass
            body, keep_alive = bytes(buf), False
            buf.clear()
        if keep_alive:
            self._reused = True
        else:
            self.close()
        return Response(status, headers, body)

    def _read_exact(self, size: int) -> bytes:
        buf = self._buf
        while len(buf) < size:
            if not self._recv():
                raise RuntimeAPIError("Runtime API closed the connection mid-body")
        body = bytes(buf[:size])
        del buf[:size]
        return body

    def _read_line(self) -> bytes:
        buf = self._buf
        while (end := buf.find(b"\r\n")) < 0:
            if not self._recv():
                raise RuntimeAPIError("Runtime API closed the connection mid-body")
        line = bytes(buf[:end])
        del buf[: end + 2]
        return line

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self._read_line().split(b";")[0], 16):
            parts.append(self._read_exact(size))
            self._read_line()
        while self._read_line():  # trailers, unused
            pass
        return b"".join(parts)
