"""``python -m strum.runtime`` as a real process against a real Runtime API server."""

from __future__ import annotations

import signal
import time

import pytest

from tests.runtime.handlers import FNS
from tests.runtime.runtime_api import FunctionFactory, RuntimeAPIServer, wait_for_file


@pytest.fixture
def fns(functions: FunctionFactory) -> FunctionFactory:
    functions.module("fns", FNS)
    return functions


def test_invocations_share_one_kept_alive_connection(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.start("fns.echo")
    results = [runtime_api.result(runtime_api.enqueue({"n": n})) for n in range(5)]

    assert [r.kind for r in results] == ["response"] * 5
    assert [r.json()["event"] for r in results] == [{"n": n} for n in range(5)]
    assert len({r.json()["pid"] for r in results}) == 1
    assert results[0].headers["content-type"] == "application/json"
    runtime_api.wait_idle(6)
    assert runtime_api.connections == [1]


def test_reconnects_when_the_connection_was_dropped_between_invocations(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    runtime_api.drop_after_posts = 1
    fns.start("fns.echo")

    first = runtime_api.result(runtime_api.enqueue({"n": 1}))
    second = runtime_api.result(runtime_api.enqueue({"n": 2}))

    assert (first.json()["event"], second.json()["event"]) == ({"n": 1}, {"n": 2})
    assert (first.connection, second.connection) == (1, 2)


def test_context_carries_aws_attributes_and_the_deadline(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.start("fns.describe")
    deadline = int(time.time() * 1000) + 5_000
    request_id = runtime_api.enqueue(
        {},
        deadline_ms=deadline,
        headers={
            "Lambda-Runtime-Client-Context": '{"client": {"installation_id": "i-1", '
            '"app_title": "App"}, "custom": {"k": "v"}, "env": {"platform": "ios"}}',
            "Lambda-Runtime-Cognito-Identity": '{"cognitoIdentityId": "id-1", '
            '"cognitoIdentityPoolId": "pool-1"}',
        },
    )

    got = runtime_api.result(request_id).json()

    assert 0 < got.pop("remaining") <= 5_000
    assert got == {
        "aws_request_id": request_id,
        "function_name": "fn",
        "function_version": "$LATEST",
        "invoked_function_arn": "arn:aws:lambda:eu-west-1:123456789012:function:fn",
        "memory_limit_in_mb": "512",  # a string, as awslambdaric gives it
        "log_group_name": "/aws/lambda/fn",
        "log_stream_name": "2024/01/01/[$LATEST]abc",
        "identity": ["id-1", "pool-1"],
        "client_context": {
            "custom": {"k": "v"},
            "env": {"platform": "ios"},
            "client": {"installation_id": "i-1", "app_title": "App", "app_version_name": None},
        },
        "trace_id": None,
    }


def test_absent_client_context_and_identity(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.start("fns.describe")
    got = runtime_api.result(runtime_api.enqueue({})).json()

    assert got["client_context"] is None
    assert got["identity"] == [None, None]


def test_trace_id_env_is_set_per_invocation_and_removed_when_absent(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.start("fns.describe")
    traced = runtime_api.enqueue({}, headers={"Lambda-Runtime-Trace-Id": "Root=1-abc;Sampled=1"})
    untraced = runtime_api.enqueue({})

    assert runtime_api.result(traced).json()["trace_id"] == "Root=1-abc;Sampled=1"
    assert runtime_api.result(untraced).json()["trace_id"] is None


def test_bytes_are_posted_as_is(fns: FunctionFactory, runtime_api: RuntimeAPIServer) -> None:
    fns.start("fns.raw")
    result = runtime_api.result(runtime_api.enqueue({}))

    assert (result.kind, result.body) == ("response", b"\x00\xffraw")
    assert result.headers["content-type"] == "application/octet-stream"


def test_strings_are_json_in_utf8(fns: FunctionFactory, runtime_api: RuntimeAPIServer) -> None:
    fns.start("fns.text")
    assert runtime_api.result(runtime_api.enqueue({})).body == '"héllo"'.encode()


def test_output_is_flushed_before_the_result_is_posted(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    process = fns.start("fns.prints")
    request_id = runtime_api.enqueue({})
    runtime_api.result(request_id)

    _, out, _ = process.stop()
    assert out == f"line from {request_id}\nno newline yet"


def test_handler_exception_is_reported_like_aws(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    process = fns.start("fns.fail")
    request_id = runtime_api.enqueue({})
    result = runtime_api.result(request_id)

    assert result.kind == "error"
    assert result.headers["lambda-runtime-function-error-type"] == "ValueError"
    error = result.json()
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert (error["errorMessage"], error["errorType"], error["requestId"]) == (
        "bad thing",
        "ValueError",
        request_id,
    )
    # Only the user's frames: the runtime's own call into the handler is not news to them.
    assert len(error["stackTrace"]) == 1
    assert 'fns.py", line' in error["stackTrace"][0]
    assert 'raise ValueError("bad thing")' in error["stackTrace"][0]
    # The runtime keeps serving after a handler error.
    assert runtime_api.result(runtime_api.enqueue({})).kind == "error"
    _, _, err = process.stop()
    assert "[ERROR] ValueError: bad thing\rTraceback (most recent call last):\r  File " in err


def test_unserialisable_result_is_a_marshal_error(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.start("fns.unserialisable")
    result = runtime_api.result(runtime_api.enqueue({}))

    assert result.kind == "error"
    assert result.headers["lambda-runtime-function-error-type"] == "Runtime.MarshalError"
    assert result.json()["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert result.json()["stackTrace"] == []


def test_event_that_is_not_json_is_an_unmarshal_error(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.start("fns.echo")
    result = runtime_api.result(runtime_api.enqueue(raw=b"{not json"))

    assert result.json()["errorType"] == "Runtime.UnmarshalError"


@pytest.mark.parametrize(
    ("handler", "modules", "error_type", "message"),
    [
        ("absent.fn", {}, "Runtime.ImportModuleError", "Unable to import module 'absent': "),
        ("fns.nope", {}, "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'fns'"),
        ("nodots", {}, "Runtime.MalformedHandlerName", "Bad handler 'nodots': "),
        ("sys.fn", {}, "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys"),
        (
            "broken.fn",
            {"broken": "def fn(:\n    pass\n"},
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'broken': ",
        ),
        (
            "deps.fn",
            {"deps": "import not_installed_anywhere\n"},
            "Runtime.ImportModuleError",
            "Unable to import module 'deps': No module named 'not_installed_anywhere'",
        ),
        ("pkg.sub.mod.gone", {"pkg.sub.mod": ""}, "Runtime.HandlerNotFound", "'pkg.sub.mod'"),
        (
            "boom.fn",
            {"boom": "raise RuntimeError('no config')\n"},
            "RuntimeError",
            "no config",
        ),
    ],
)
def test_init_failures_are_posted_to_init_error_and_exit_nonzero(
    fns: FunctionFactory,
    runtime_api: RuntimeAPIServer,
    handler: str,
    modules: dict[str, str],
    error_type: str,
    message: str,
) -> None:
    for name, source in modules.items():
        fns.module(name, source)
    process = fns.start(handler)

    posted = runtime_api.init_error()
    code, _, err = process.wait()

    assert code == 1
    assert posted.headers["lambda-runtime-function-error-type"] == error_type
    assert posted.json()["errorType"] == error_type
    assert message in posted.json()["errorMessage"]
    assert f"[ERROR] {error_type}: " in err
    assert runtime_api.next_polls == 0


def test_syntax_error_names_file_and_line(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.module("broken", "x = 1\ndef fn(:\n")
    fns.start("broken.fn")

    (entry,) = runtime_api.init_error().json()["stackTrace"]
    assert 'broken.py" Line 2' in entry


def test_module_raising_at_import_reports_its_own_frames(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    fns.module("boom", "def load():\n    raise RuntimeError('no config')\n\nload()\n")
    fns.start("boom.fn")

    trace = runtime_api.init_error().json()["stackTrace"]
    assert all("boom.py" in entry for entry in trace)
    assert len(trace) == 2


def test_dotted_module_handler(fns: FunctionFactory, runtime_api: RuntimeAPIServer) -> None:
    fns.module("pkg.sub.mod", "def fn(event, context):\n    return {'from': __name__}\n")
    fns.start("pkg.sub.mod.fn")
    assert runtime_api.result(runtime_api.enqueue({})).json() == {"from": "pkg.sub.mod"}


def test_sigterm_while_busy_finishes_the_invocation_then_exits_cleanly(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    process = fns.start("fns.waits")
    request_id = runtime_api.enqueue({})
    wait_for_file(fns.marker("started"))

    process.popen.send_signal(signal.SIGTERM)
    fns.marker("go").write_text("")
    result = runtime_api.result(request_id)
    code, _, err = process.wait()

    assert result.kind == "response"
    assert result.json() == {"finished": True}
    assert (code, err) == (0, "")
    assert fns.marker("atexit-ran").exists()
    assert runtime_api.next_polls == 1  # it did not ask for more work


def test_sigterm_while_idle_exits_promptly_and_cleanly(
    fns: FunctionFactory, runtime_api: RuntimeAPIServer
) -> None:
    process = fns.start("fns.echo")
    runtime_api.result(runtime_api.enqueue({}))
    runtime_api.wait_idle(2)

    started = time.monotonic()
    process.popen.send_signal(signal.SIGTERM)
    code, _, err = process.wait(timeout=5)

    assert time.monotonic() - started < 2
    assert (code, err) == (0, "")
    assert fns.marker("atexit-ran").exists()
