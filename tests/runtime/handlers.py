"""Source of the tiny handler modules the runtime tests write into a task root.

Kept as text (not imported by the tests) because each function process imports it from
its own ``$LAMBDA_TASK_ROOT``, under strum's runtime or awslambdaric.
"""

FNS = """
import atexit
import os
import pathlib
import sys
import time

MARKERS = pathlib.Path(os.environ["MARKERS"])
atexit.register(lambda: (MARKERS / "atexit-ran").write_text("yes"))


def _wait_for(name):
    deadline = time.monotonic() + 10
    while not (MARKERS / name).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(name)
        time.sleep(0.005)


def echo(event, context):
    return {"event": event, "pid": os.getpid()}


def describe(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "identity": [context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id],
        "client_context": None if cc is None else {
            "custom": cc.custom,
            "env": cc.env,
            "client": None if cc.client is None else {
                "installation_id": cc.client.installation_id,
                "app_title": cc.client.app_title,
                "app_version_name": cc.client.app_version_name,
            },
        },
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }


def fail(event, context):
    raise ValueError("bad thing")


def unserialisable(event, context):
    return {"a": {1, 2}}


def raw(event, context):
    return b"\\x00\\xffraw"


def text(event, context):
    return "h\u00e9llo"


def prints(event, context):
    print("line from", context.aws_request_id)
    sys.stdout.write("no newline yet")
    return None


def waits(event, context):
    (MARKERS / "started").write_text("yes")
    _wait_for("go")
    return {"finished": True}


def stream(event, context):
    from strum.runtime.streaming import StreamingResponse

    def chunks():
        for n in (1, 2, 3):
            yield f"chunk-{n};".encode()
            _wait_for(f"received-{n}")  # the server has it before the next is produced

    return StreamingResponse("text/plain", chunks())


def stream_fails(event, context):
    from strum.runtime.streaming import StreamingResponse

    def chunks():
        yield b"partial"
        raise RuntimeError("disk on fire")

    return StreamingResponse(content_type="text/plain", chunks=chunks())
"""
