"""ARNs are built in one place, in the scope of the request being answered."""

from __future__ import annotations

import asyncio

from strum.platform import arns

HOME = arns.Scope("us-east-1", "000000000000")


def test_every_kind_of_arn_the_platform_makes() -> None:
    scope = arns.Scope("eu-west-1", "123456789012")
    assert scope.function("fn") == "arn:aws:lambda:eu-west-1:123456789012:function:fn"
    assert scope.function("fn", "live") == "arn:aws:lambda:eu-west-1:123456789012:function:fn:live"
    assert scope.layer("deps", 3) == "arn:aws:lambda:eu-west-1:123456789012:layer:deps:3"
    assert scope.layer("deps") == "arn:aws:lambda:eu-west-1:123456789012:layer:deps"
    assert scope.log_group("fn") == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/fn"
    assert scope.role("r") == "arn:aws:iam::123456789012:role/r"
    assert scope.runtime_version("ab") == "arn:aws:lambda:eu-west-1::runtime:ab"


def test_parse_reads_the_six_parts() -> None:
    parsed = arns.parse("arn:aws:lambda:us-east-1:000000000000:function:fn:1")
    assert parsed == arns.Arn("aws", "lambda", "us-east-1", "000000000000", "function:fn:1")
    assert arns.parse("fn") is None
    assert arns.parse("arn:aws:lambda") is None


def test_the_current_scope_is_the_requests_and_the_default_outside_one() -> None:
    assert arns.current(HOME) is HOME
    with arns.scoped(arns.Scope("ap-south-1", "000000000000")) as scope:
        assert arns.current(HOME) is scope
    assert arns.current(HOME) is HOME


def test_concurrent_requests_keep_their_own_scopes() -> None:
    async def answer(region: str, gate: asyncio.Event) -> str:
        with arns.scoped(arns.Scope(region, "000000000000")):
            await gate.wait()
            return arns.current(HOME).function("fn")

    async def both() -> list[str]:
        gate = asyncio.Event()
        tasks = [asyncio.create_task(answer(r, gate)) for r in ("eu-west-1", "us-west-2")]
        await asyncio.sleep(0)
        gate.set()
        return list(await asyncio.gather(*tasks))

    assert asyncio.run(both()) == [
        "arn:aws:lambda:eu-west-1:000000000000:function:fn",
        "arn:aws:lambda:us-west-2:000000000000:function:fn",
    ]
