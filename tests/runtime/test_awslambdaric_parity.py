"""The same handlers under strum's runtime and under awslambdaric give the same results.

This pins strum to AWS's own Python runtime (same error documents, same JSON) and, since
awslambdaric talks to the test server with libcurl, also validates the server fixture.
"""

from __future__ import annotations

import pytest

from tests.runtime.handlers import FNS
from tests.runtime.runtime_api import FunctionFactory, RuntimeAPIServer

RUNTIMES = ("strum", "awslambdaric")


# Values that legitimately differ between two processes and two invocations.
VOLATILE = {"requestId": "<id>", "aws_request_id": "<id>", "pid": "<pid>", "remaining": "<ms>"}


def _run(
    functions: FunctionFactory, runtime: str, handler: str, event: object
) -> tuple[str, object]:
    server = functions.server
    process = functions.start(handler, runtime=runtime)
    request_id = server.enqueue(
        event,
        headers={
            "Lambda-Runtime-Client-Context": '{"client": {"app_title": "App"}, "custom": {"k": 1}}',
            "Lambda-Runtime-Cognito-Identity": '{"cognitoIdentityId": "id-1"}',
        },
    )
    posted = server.result(request_id)
    process.stop()
    if handler == "fns.raw":  # bytes: same body; awslambdaric labels it application/unknown
        return posted.kind, posted.body
    document = posted.json()
    if isinstance(document, dict):
        document |= {key: value for key, value in VOLATILE.items() if key in document}
    return posted.kind, document


@pytest.mark.parametrize(
    "handler",
    ["fns.echo", "fns.describe", "fns.fail", "fns.unserialisable", "fns.raw", "fns.text"],
)
def test_invocation_results_match_awslambdaric(
    functions: FunctionFactory, runtime_api: RuntimeAPIServer, handler: str
) -> None:
    functions.module("fns", FNS)
    event = {"text": "héllo ☃", "n": [1, 2.5, None, True]}

    strum, aws = (_run(functions, runtime, handler, event) for runtime in RUNTIMES)

    assert strum == aws


@pytest.mark.parametrize(
    ("handler", "modules"),
    [
        ("absent.fn", {}),
        ("fns.nope", {}),
        ("nodots", {}),
        ("broken.fn", {"broken": "def fn(:\n"}),
    ],
)
def test_init_errors_match_awslambdaric(
    functions: FunctionFactory,
    runtime_api: RuntimeAPIServer,
    handler: str,
    modules: dict[str, str],
) -> None:
    functions.module("fns", FNS)
    for name, source in modules.items():
        functions.module(name, source)
    documents = []
    for runtime in RUNTIMES:
        runtime_api.posted.clear()
        process = functions.start(handler, runtime=runtime)
        posted = runtime_api.init_error()
        code, _, _ = process.wait()
        documents.append(
            (code, posted.headers["lambda-runtime-function-error-type"], posted.json())
        )

    assert documents[0] == documents[1]
