"""What AWS Lambda does beyond its shapes, on the platform: ARNs in the caller's signed region
and account everywhere (inside the function too), references outside them refused as AWS
refuses them, AWS's exact words for validation and unknown aliases, tag limits, account
settings, and the AWS CLI as a user types it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.platform.api.conformance_support import (
    ACCOUNT,
    Recorder,
    arn,
    aws_error,
    fresh,
    module_platform,
    recording_client,
    regional_client,
)
from tests.platform.api.test_async_config import deploy_sink
from tests.platform.conftest import RunningPlatform
from tests.platform.invoke.test_queue import wait_for
from tests.platform.packages import create_function, handler_zip


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    yield from module_platform(tmp_path_factory)


@pytest.fixture(scope="module")
def recorded(platform: RunningPlatform) -> tuple[Any, Recorder]:
    return recording_client(platform)


# -- ARNs: the caller's signed region and account, everywhere ------------------------------


def test_arns_carry_the_region_the_request_was_signed_for(platform: RunningPlatform) -> None:
    client = regional_client(platform, "eu-west-1")
    created = create_function(client, "regional", Publish=True)
    assert created["FunctionArn"] == arn("regional", region="eu-west-1")
    assert created["Version"] == "1"
    alias = client.create_alias(FunctionName="regional", Name="live", FunctionVersion="1")
    assert alias["AliasArn"] == arn("regional", "live", region="eu-west-1")
    url = client.create_function_url_config(FunctionName="regional", AuthType="NONE")
    assert url["FunctionArn"] == arn("regional", region="eu-west-1")
    config = client.put_function_event_invoke_config(FunctionName="regional")
    assert config["FunctionArn"] == arn("regional", "$LATEST", region="eu-west-1")
    client.add_permission(
        FunctionName="regional", StatementId="s", Action="lambda:InvokeFunction", Principal="*"
    )
    policy = json.loads(client.get_policy(FunctionName="regional")["Policy"])
    assert policy["Statement"][0]["Resource"] == arn("regional", region="eu-west-1")
    # Inside the function too: the context's invoked ARN is the one the caller named.
    answer = json.loads(client.invoke(FunctionName="regional:live")["Payload"].read())
    assert answer["arn"] == arn("regional", "live", region="eu-west-1")
    # The same function seen from us-east-1 answers us-east-1's ARNs.
    other = platform.client()
    assert other.get_function(FunctionName="regional")["Configuration"]["FunctionArn"] == arn(
        "regional"
    )


def test_async_invocations_and_their_records_keep_the_callers_region(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    client = regional_client(platform, "ap-south-1")
    sink = deploy_sink(client, "south-sink", tmp_path)
    create_function(client, "south")
    client.put_function_event_invoke_config(
        FunctionName="south",
        DestinationConfig={"OnSuccess": {"Destination": arn("south-sink", region="ap-south-1")}},
    )
    client.invoke(FunctionName="south", InvocationType="Event", Payload=b"{}")
    line = wait_for(lambda: sink.exists() and sink.read_text(), what="the success record")
    record = json.loads(line.splitlines()[0])
    assert record["requestContext"]["functionArn"] == arn("south", "$LATEST", region="ap-south-1")
    assert record["responsePayload"]["arn"] == arn("south", region="ap-south-1")


def test_list_functions_all_qualifies_latest_as_aws_does(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    listed = client.list_functions(FunctionVersion="ALL")["Functions"]
    mine = {f["Version"]: f["FunctionArn"] for f in listed if f["FunctionName"] == "conf"}
    assert mine == {"$LATEST": arn("conf", "$LATEST"), "1": arn("conf", "1")}
    plain = [f for f in client.list_functions()["Functions"] if f["FunctionName"] == "conf"]
    assert plain[0]["FunctionArn"] == arn("conf")


def test_publish_after_update_code_makes_the_next_version(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    name = fresh(client, Publish=True)
    client.update_function_code(FunctionName=name, ZipFile=handler_zip("changed"))
    published = client.publish_version(FunctionName=name)
    assert (published["Version"], published["FunctionArn"]) == ("2", arn(name, "2"))


def test_get_alias_takes_the_alias_arn_as_function_name(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    alias = client.get_alias(FunctionName=arn("conf", "live"), Name="live")
    assert alias["AliasArn"] == arn("conf", "live")


# -- errors: AWS's codes and words ----------------------------------------------------------


def test_model_violations_are_validation_errors_in_aws_words(
    recorded: tuple[Any, Recorder],
) -> None:
    client, _ = recorded
    code, message, status = aws_error(lambda: create_function(client, "big", MemorySize=40000))
    assert (code, status) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value '40000' at 'memorySize' failed to satisfy "
        "constraint: Member must have value less than or equal to 32768"
    )
    code, message, _ = aws_error(
        lambda: create_function(client, "big", MemorySize=40000, Timeout=0)
    )
    assert message.startswith("2 validation errors detected: Value '")
    assert message.split(": ", 1)[1].split("; ") == [
        "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater "
        "than or equal to 1",
        "Value '40000' at 'memorySize' failed to satisfy constraint: Member must have value "
        "less than or equal to 32768",
    ]
    # Beyond what a standard function may have, inside the model: Lambda's own refusal.
    code, message, _ = aws_error(
        lambda: create_function(client, "big", EphemeralStorage={"Size": 20000})
    )
    assert code == "InvalidParameterValueException"
    assert "less than or equal to 10240" in message


def test_an_unknown_route_answers_json_as_aws(platform: RunningPlatform) -> None:
    request = platform.request("/2015-03-31/nothing-here")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 404
    assert raised.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "message" in json.loads(raised.value.read())
    raised.value.close()


def test_references_outside_the_callers_account_or_region_are_refused(
    recorded: tuple[Any, Recorder],
) -> None:
    client, _ = recorded
    foreign = "arn:aws:lambda:us-east-1:111111111111:function:conf"
    code, message, status = aws_error(lambda: client.get_function(FunctionName=foreign))
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: lambda:GetFunction "
        f"on resource: {foreign} because no resource-based policy allows the "
        "lambda:GetFunction action"
    )
    code, _, _ = aws_error(lambda: client.get_function(FunctionName="111111111111:function:conf"))
    assert code == "AccessDeniedException"
    code, message, status = aws_error(
        lambda: client.get_function(FunctionName=arn("conf", region="us-west-2"))
    )
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == "Functions from 'us-west-2' are not reachable in this region ('us-east-1')"
    code, message, status = aws_error(
        lambda: create_function(client, "x", Role="arn:aws:iam::111111111111:role/r")
    )
    assert (code, message, status) == (
        "AccessDeniedException", "Cross-account pass role is not allowed.", 403
    )  # fmt: skip
    code, _, _ = aws_error(
        lambda: client.put_function_event_invoke_config(
            FunctionName="conf",
            DestinationConfig={"OnFailure": {"Destination": foreign.replace("conf", "dlq")}},
        )
    )
    assert code == "InvalidParameterValueException"
    code, _, status = aws_error(
        lambda: create_function(
            client,
            "signed",
            CodeSigningConfigArn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0",
        )
    )
    assert (code, status) == ("CodeSigningConfigNotFoundException", 404)


def test_an_unknown_alias_is_worded_as_aws(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    code, message, _ = aws_error(lambda: client.get_alias(FunctionName="conf", Name="nope"))
    assert (code, message) == (
        "ResourceNotFoundException", f"Cannot find alias arn: {arn('conf', 'nope')}"
    )  # fmt: skip


def test_tags_follow_aws_limits(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    name = fresh(client, Tags={"a": "1"})
    assert client.get_function(FunctionName=name)["Tags"] == {"a": "1"}
    client.tag_resource(Resource=arn(name), Tags={f"k{i}": "v" for i in range(49)})
    assert len(client.list_tags(Resource=arn(name))["Tags"]) == 50
    code, _, _ = aws_error(lambda: client.tag_resource(Resource=arn(name), Tags={"one-more": "v"}))
    assert code == "InvalidParameterValueException"
    client.untag_resource(Resource=arn(name), TagKeys=["k0", "k1"])
    assert len(client.list_tags(Resource=arn(name))["Tags"]) == 48
    code, _, _ = aws_error(lambda: client.tag_resource(Resource=arn(name), Tags={"aws:x": "v"}))
    assert code == "InvalidParameterValueException"
    code, message, _ = aws_error(
        lambda: client.tag_resource(Resource=arn(name), Tags={"k" * 129: "v"})
    )
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 128" in message
    code, message, _ = aws_error(lambda: client.list_tags(Resource=arn("conf", "1")))
    assert (code, message) == (
        "InvalidParameterValueException",
        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    )
    code, _, _ = aws_error(lambda: client.list_tags(Resource=arn("ghost")))
    assert code == "ResourceNotFoundException"


def test_account_settings_report_real_limits_and_usage(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    before = client.get_account_settings()
    fresh(client)
    after = client.get_account_settings()
    assert after["AccountUsage"]["FunctionCount"] == before["AccountUsage"]["FunctionCount"] + 1
    assert after["AccountUsage"]["TotalCodeSize"] > 0
    limit = after["AccountLimit"]
    assert (limit["CodeSizeZipped"], limit["CodeSizeUnzipped"]) == (52428800, 262144000)
    assert limit["TotalCodeSize"] == 75 * 1024**3
    assert limit["ConcurrentExecutions"] >= limit["UnreservedConcurrentExecutions"]


def test_recursion_and_runtime_management_configs_are_kept(recorded: tuple[Any, Recorder]) -> None:
    client, _ = recorded
    name = fresh(client)
    assert client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
    client.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")
    assert client.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
    got = client.get_runtime_management_config(FunctionName=name)
    assert (got["UpdateRuntimeOn"], got.get("RuntimeVersionArn")) == ("Auto", None)
    version = "arn:aws:lambda:us-east-1::runtime:" + "a" * 64
    client.put_runtime_management_config(
        FunctionName=name, UpdateRuntimeOn="Manual", RuntimeVersionArn=version
    )
    got = client.get_runtime_management_config(FunctionName=name)
    assert (got["UpdateRuntimeOn"], got["RuntimeVersionArn"]) == ("Manual", version)
    code, _, _ = aws_error(
        lambda: client.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="Manual")
    )
    assert code == "InvalidParameterValueException"


# -- the AWS CLI, as a user types it --------------------------------------------------------


def _aws(platform: RunningPlatform, tmp_path: Path, *args: str) -> Any:
    # The environment `strum platform credentials --env` prints, and nothing else.
    owner = platform.owner
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_ENDPOINT_URL_LAMBDA": platform.endpoint,
        "AWS_ACCESS_KEY_ID": owner.access_key_id,
        "AWS_SECRET_ACCESS_KEY": owner.secret,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    aws = str(Path(sys.executable).parent / "aws")
    done = subprocess.run(
        [aws, "lambda", *args, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_the_aws_cli_as_a_user_types_it(
    platform: RunningPlatform, recorded: tuple[Any, Recorder], tmp_path: Path
) -> None:
    client, _ = recorded
    name = fresh(client)
    function = arn(name)
    added = _aws(
        platform, tmp_path, "add-permission", "--function-name", name, "--statement-id", "cli",
        "--action", "lambda:InvokeFunction", "--principal", ACCOUNT,
    )  # fmt: skip
    assert json.loads(added["Statement"])["Resource"] == function
    policy = json.loads(_aws(platform, tmp_path, "get-policy", "--function-name", name)["Policy"])
    assert [statement["Sid"] for statement in policy["Statement"]] == ["cli"]
    _aws(platform, tmp_path, "tag-resource", "--resource", function, "--tags", "team=web,env=dev")
    listed = _aws(platform, tmp_path, "list-tags", "--resource", function)
    assert listed == {"Tags": {"team": "web", "env": "dev"}}
    settings = _aws(platform, tmp_path, "get-account-settings")
    assert settings["AccountUsage"]["FunctionCount"] >= 1


def test_an_alias_named_function_is_not_mistaken_for_a_partial_arn(
    recorded: tuple[Any, Recorder],
) -> None:
    client, _ = recorded
    name = fresh(client, Publish=True)
    client.create_alias(FunctionName=name, Name="function", FunctionVersion="1")
    got = client.get_function_configuration(FunctionName=f"{name}:function")
    assert got["FunctionArn"] == arn(name, "function")


def test_a_body_over_the_apis_limit_answers_json_as_aws(platform: RunningPlatform) -> None:
    body = b" " * 69_905_068
    request = platform.request("/2015-03-31/functions", method="POST", data=body)
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=60)
    assert raised.value.code == 413
    assert raised.value.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert json.loads(raised.value.read())["message"] == (
        "Request must be smaller than 69905067 bytes for the CreateFunction operation"
    )
    raised.value.close()
