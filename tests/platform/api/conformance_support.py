"""What the conformance tests share: a module's platform and a recording client on it,
throwaway functions, ARNs of the platform's account, and AWS's errors as tuples."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.platform.conftest import RunningPlatform, start_platform
from tests.platform.packages import create_function

ACCOUNT = "000000000000"
_names = itertools.count()


class Recorder:
    """The raw responses botocore received, by operation name (the last of each)."""

    def __init__(self) -> None:
        self.responses: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def __call__(self, http_response: Any, model: Any, **_: Any) -> None:
        self.responses[model.name] = (
            http_response.status_code,
            dict(http_response.headers),
            http_response.content,
        )


def module_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """One platform for a whole test module (its fixture: ``platform``)."""
    running = start_platform(tmp_path_factory.mktemp("conformance") / "home")
    yield running
    running.stop()


def recording_client(platform: RunningPlatform) -> tuple[Any, Recorder]:
    """A client without boto3's own checks (the platform's answer is what is seen), its
    raw answers recorded, and the shared function ``conf`` (version 1, alias ``live``)."""
    client = platform.client(parameter_validation=False)
    recorder = Recorder()
    client.meta.events.register("after-call.lambda", recorder)
    create_function(client, "conf", Publish=True, Tags={"team": "web"})
    client.create_alias(FunctionName="conf", Name="live", FunctionVersion="1")
    return client, recorder


def unique_name(prefix: str = "f") -> str:
    """A function name no other test of the module uses."""
    return f"{prefix}{next(_names)}"


def regional_client(platform: RunningPlatform, region: str) -> Any:
    """A client of the owner's, signing for ``region``."""
    import boto3

    owner = platform.owner
    client = boto3.client(
        "lambda",
        endpoint_url=platform.endpoint,
        region_name=region,
        aws_access_key_id=owner.access_key_id,
        aws_secret_access_key=owner.secret,
    )
    platform.clients.append(client)
    return client


def fresh(client: Any, **extra: Any) -> str:
    """A new function of its own, for calls that change or delete it."""
    name = unique_name()
    create_function(client, name, **extra)
    return name


def arn(name: str, qualifier: str | None = None, region: str = "us-east-1") -> str:
    base = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def aws_error(call: Callable[[], object]) -> tuple[str, str, int]:
    """The code, message and HTTP status of the error ``call`` answers with."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )
