"""The runtime's main loop: init, then next event -> handler -> response, until SIGTERM."""

from __future__ import annotations

import json
import os
import select
import signal
import sys

from strum.runtime._client import RuntimeAPIClient, RuntimeAPIError
from strum.runtime._faults import Fault, document_for, log_error, to_json
from strum.runtime._handler import load_handler
from strum.runtime.context import ClientContext, CognitoIdentity, FunctionInfo, LambdaContext
from strum.runtime.streaming import StreamingResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from strum.runtime._client import Response
    from strum.runtime._handler import Handler

_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
_ERROR_BODY = "Lambda-Runtime-Function-Error-Body"


class ShutdownSignal:
    """Turns SIGTERM into a request to stop that the loop honours at a safe point.

    The signal handler only records the request; Python's wakeup fd (written by the C-level
    handler, so it cannot be missed between a check and a blocking call) lets the idle
    long poll wake up at once. A running invocation is never interrupted: the loop stops
    after posting its response.
    """

    def __init__(self) -> None:
        self.requested = False
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        os.set_blocking(self._write_fd, False)
        signal.signal(signal.SIGTERM, self._on_signal)
        self._arm()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.requested = True

    def _arm(self) -> None:
        # Re-asserted before every wait: an asyncio loop in user code may have claimed the
        # process-wide wakeup fd (add_signal_handler) or reset it when it closed.
        signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)

    def wait_readable(self, fd: int) -> bool:
        """Block until ``fd`` is readable (True) or shutdown is requested (False)."""
        self._arm()
        while True:
            # An event already arriving wins over a shutdown request: dropping it would
            # make the platform wait out the invocation's whole timeout.
            readable, _, _ = select.select([fd, self._read_fd], [], [])
            if fd in readable:
                return True
            while True:
                try:
                    if not os.read(self._read_fd, 512):
                        break
                except BlockingIOError:
                    break
            if self.requested:
                return False


def main(argv: list[str] | None = None) -> int:
    """Run the bootstrap; returns the process exit status (0 after SIGTERM, 1 on failure)."""
    argv = sys.argv if argv is None else argv
    environ = os.environ
    _unbuffer_stdio()
    shutdown = ShutdownSignal()
    task_root = environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    handler_spec = argv[1] if len(argv) > 1 else environ.get("_HANDLER", "")
    try:
        client = RuntimeAPIClient(environ["AWS_LAMBDA_RUNTIME_API"])
    except KeyError:
        sys.stderr.write("[ERROR] AWS_LAMBDA_RUNTIME_API is not set\n")
        return 1
    except RuntimeAPIError as exc:
        sys.stderr.write(f"[ERROR] {exc}\n")
        return 1

    try:
        try:
            handler = load_handler(handler_spec)
        except Exception as exc:
            document = document_for(exc)
            log_error(document)
            client.post("/init/error", to_json(document), ((_ERROR_TYPE, document["errorType"]),))
            return 1
        return _serve(client, handler, FunctionInfo(environ), shutdown)
    except RuntimeAPIError as exc:
        sys.stderr.write(f"[ERROR] Runtime.ClientError: {exc}\n")
        return 1


def _serve(
    client: RuntimeAPIClient, handler: Handler, function: FunctionInfo, shutdown: ShutdownSignal
) -> int:
    environ = os.environ
    while not shutdown.requested:
        invocation = client.next_invocation(shutdown.wait_readable)
        if invocation is None:
            break
        headers = invocation.headers
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            environ.pop("_X_AMZN_TRACE_ID", None)
        _invoke(client, handler, function, request_id, invocation)
    return 0


def _invoke(
    client: RuntimeAPIClient,
    handler: Handler,
    function: FunctionInfo,
    request_id: str,
    invocation: Response,
) -> None:
    path = f"/invocation/{request_id}"
    try:
        context = _context(invocation.headers, request_id, function)
        event = _event(invocation)
        result = handler(event, context)
        _flush_stdio()
        streaming = isinstance(result, StreamingResponse)
        if not streaming:
            body, content_type = _marshal(result)
    except Exception as exc:
        _flush_stdio()
        document = document_for(exc, request_id)
        log_error(document)
        _check(
            client.post(
                path + "/error",
                to_json(document),
                ((_ERROR_TYPE, document["errorType"]), ("Content-Type", "application/json")),
            )
        )
        return
    # Posting happens outside the try: a Runtime API failure is not the handler's error.
    if streaming:
        _stream(client, path, request_id, result)
    else:
        _check(client.post(path + "/response", body, (("Content-Type", content_type),)))


def _stream(
    client: RuntimeAPIClient, path: str, request_id: str, result: StreamingResponse
) -> None:
    def trailers(exc: BaseException) -> tuple[tuple[str, str], ...]:
        import base64

        _flush_stdio()
        document = document_for(exc, request_id)
        log_error(document)
        encoded = base64.b64encode(to_json(document)).decode("ascii")
        return ((_ERROR_TYPE, document["errorType"]), (_ERROR_BODY, encoded))

    headers = (
        ("Lambda-Runtime-Function-Response-Mode", "streaming"),
        ("Content-Type", result.content_type),
        ("Trailer", f"{_ERROR_TYPE}, {_ERROR_BODY}"),
    )
    try:
        response = client.post_stream(path + "/response", iter(result.chunks), headers, trailers)
    except RuntimeAPIError as exc:
        # The caller went away or the platform cut the stream (size limit); the next
        # invocation gets a fresh connection, so this one failing is not fatal.
        sys.stderr.write(f"[ERROR] Runtime.StreamError: {exc}\n")
        return
    _check(response)


def _context(headers: dict[str, str], request_id: str, function: FunctionInfo) -> LambdaContext:
    client_context = identity = None
    if raw := headers.get("lambda-runtime-client-context"):
        client_context = ClientContext(_json_header(raw, "Client Context"))
    if raw := headers.get("lambda-runtime-cognito-identity"):
        identity = CognitoIdentity(_json_header(raw, "Cognito Identity"))
    try:
        deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
    except ValueError:
        deadline_ms = 0
    return LambdaContext(
        aws_request_id=request_id,
        deadline_ms=deadline_ms,
        invoked_function_arn=headers.get("lambda-runtime-invoked-function-arn"),
        function=function,
        client_context=client_context,
        identity=identity,
        tenant_id=headers.get("lambda-runtime-aws-tenant-id"),
    )


def _json_header(raw: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise Fault(
            "Runtime.LambdaContextUnmarshalError", f"Unable to parse {name} JSON: {exc}"
        ) from None
    return value if isinstance(value, dict) else {}


def _event(invocation: Response) -> Any:
    content_type = invocation.headers.get("content-type", "application/json")
    # The Runtime API only ever sends JSON events; anything else is passed through as
    # bytes, as awslambdaric does, rather than guessed at.
    if content_type.partition(";")[0].strip() != "application/json":
        return invocation.body
    try:
        return json.loads(invocation.body)
    except ValueError as exc:
        raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None


def _marshal(result: Any) -> tuple[bytes, str]:
    if isinstance(result, (bytes, bytearray)):
        return bytes(result), "application/octet-stream"
    try:
        # ensure_ascii=False: UTF-8 JSON, as AWS's python3.12+ runtimes send.
        text = json.dumps(result, ensure_ascii=False, default=_json_default)
        return text.encode("utf-8"), "application/json"
    except Exception as exc:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def _json_default(value: Any) -> Any:
    # awslambdaric serialises Decimal (DynamoDB returns numbers as Decimal), so handlers
    # written for AWS return them. If decimal was never imported, nothing is a Decimal.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        if value.is_nan():
            return float("nan")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _check(response: Response) -> None:
    status = response.status
    if status >= 500:
        # AWS: a 500 from the Runtime API is a non-recoverable container error; exit.
        raise RuntimeAPIError(f"Runtime API answered {status}: {response.body[:500]!r}")
    if status != 202:
        # 4xx (unknown request id, payload too large): this invocation is lost, but the
        # next one can still succeed, so report it and carry on.
        sys.stderr.write(
            f"[ERROR] Runtime API rejected the result ({status}): {response.body[:500]!r}\n"
        )


def _unbuffer_stdio() -> None:
    # Logs must appear as they are written (AWS's runtime flushes every write): a process
    # frozen between invocations, or killed at the timeout, must not lose buffered lines.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)


def _flush_stdio() -> None:
    # Output without a trailing newline belongs to this invocation too: flush it before the
    # result is posted, because the platform closes the invocation's log at that moment.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            continue  # a closed or broken log stream must not fail the invocation
