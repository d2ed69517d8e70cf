"""The context object on its own: plain data in, AWS's attributes out."""

from __future__ import annotations

import time

import pytest

from strum.runtime.context import (
    ClientContext,
    CognitoIdentity,
    FunctionInfo,
    LambdaContext,
)

FUNCTION = FunctionInfo(
    {"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}
)


def make_context(*, deadline_ms: int | None = None, **kwargs: object) -> LambdaContext:
    if deadline_ms is None:
        deadline_ms = int(time.time() * 1000) + 3_000
    return LambdaContext(
        aws_request_id="req-1",
        deadline_ms=deadline_ms,
        invoked_function_arn="arn:aws:lambda:eu-west-1:1:function:fn",
        function=FUNCTION,
        **kwargs,  # type: ignore[arg-type]
    )


def test_remaining_time_counts_down_to_the_deadline_and_stops_at_zero() -> None:
    assert 2_000 < make_context().get_remaining_time_in_millis() <= 3_000
    assert make_context(deadline_ms=0).get_remaining_time_in_millis() == 0


def test_function_facts_come_from_the_environment() -> None:
    context = make_context()
    assert (context.function_name, context.memory_limit_in_mb) == ("fn", "256")
    assert context.function_version is None
    assert context.identity.cognito_identity_id is None
    assert context.client_context is None


def test_client_context_without_client() -> None:
    client_context = ClientContext({"custom": {"a": 1}})
    assert (client_context.client, client_context.custom, client_context.env) == (
        None,
        {"a": 1},
        None,
    )


def test_context_is_slotted() -> None:
    context = make_context(identity=CognitoIdentity({"cognitoIdentityId": "x"}))
    with pytest.raises(AttributeError):
        context.surprise = 1  # type: ignore[attr-defined]
    assert "req-1" in repr(context)
    assert "'x'" in repr(context.identity)


def test_log_writes_without_newline(capsys: pytest.CaptureFixture[str]) -> None:
    make_context().log("hello")
    assert capsys.readouterr().out == "hello"
