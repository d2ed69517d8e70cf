"""Conformance with AWS Lambda's API: every operation the platform serves, driven with boto3,
answers in its output shape from botocore's model, and every error with AWS's code, status
and error shape (``shape_check`` reads the raw answers).

``CALLS`` is the table: one entry per operation, a call that makes it succeed against the
module's platform. A test pins that every operation the platform routes has an entry, so a
new route comes with its conformance check. ``ERRORS`` is the same for errors.
``test_aws_behaviour`` checks what AWS does beyond shapes: ARNs, words, limits, the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from strum.platform import api
from tests.platform.api.conformance_support import (
    ACCOUNT,
    Recorder,
    arn,
    fresh,
    module_platform,
    recording_client,
    unique_name,
)
from tests.platform.api.durable_support import callback_execution, holding_invocation
from tests.platform.api.shape_check import error_problems, response_problems
from tests.platform.conftest import RunningPlatform
from tests.platform.packages import create_function, handler_zip


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    yield from module_platform(tmp_path_factory)


@pytest.fixture(scope="module")
def recorded(platform: RunningPlatform) -> tuple[Any, Recorder]:
    return recording_client(platform)


def _with_url(client: Any) -> str:
    name = fresh(client)
    client.create_function_url_config(FunctionName=name, AuthType="NONE")
    return name


def _with_permission(client: Any) -> str:
    name = fresh(client)
    client.add_permission(
        FunctionName=name, StatementId="s1", Action="lambda:InvokeFunction", Principal=ACCOUNT
    )
    return name


def _with_invoke_config(client: Any) -> str:
    name = fresh(client)
    client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    return name


def _with_provisioned(client: Any) -> str:
    name = fresh(client, Publish=True)
    client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    return name


def _layer(client: Any) -> tuple[str, int]:
    name = unique_name("layer")
    published = client.publish_layer_version(
        LayerName=name,
        Content={"ZipFile": handler_zip("layer")},
        CompatibleRuntimes=["python3.11"],
        CompatibleArchitectures=["x86_64"],
    )
    return name, published["Version"]


def _layer_with_permission(client: Any) -> tuple[str, int]:
    name, version = _layer(client)
    client.add_layer_version_permission(
        LayerName=name,
        VersionNumber=version,
        StatementId="s1",
        Action="lambda:GetLayerVersion",
        Principal=ACCOUNT,
    )
    return name, version


# operation -> a call that succeeds. Extend this table with every new operation.
CALLS: dict[str, Callable[[Any], object]] = {
    "CreateFunction": lambda c: create_function(c, unique_name("new"), Publish=True),
    "GetFunction": lambda c: c.get_function(FunctionName="conf"),
    "GetFunctionConfiguration": lambda c: c.get_function_configuration(
        FunctionName="conf", Qualifier="1"
    ),
    "ListFunctions": lambda c: c.list_functions(FunctionVersion="ALL"),
    "UpdateFunctionConfiguration": lambda c: c.update_function_configuration(
        FunctionName=fresh(c), MemorySize=256, Environment={"Variables": {"AB": "1"}}
    ),
    "UpdateFunctionCode": lambda c: c.update_function_code(
        FunctionName=fresh(c), ZipFile=handler_zip("two"), Publish=True
    ),
    "PublishVersion": lambda c: c.publish_version(FunctionName=fresh(c), Description="v"),
    "ListVersionsByFunction": lambda c: c.list_versions_by_function(FunctionName="conf"),
    "DeleteFunction": lambda c: c.delete_function(FunctionName=fresh(c)),
    "CreateAlias": lambda c: c.create_alias(
        FunctionName=fresh(c, Publish=True), Name="a", FunctionVersion="1"
    ),
    "GetAlias": lambda c: c.get_alias(FunctionName="conf", Name="live"),
    "ListAliases": lambda c: c.list_aliases(FunctionName="conf"),
    "UpdateAlias": lambda c: c.update_alias(FunctionName="conf", Name="live", Description="d"),
    "DeleteAlias": lambda c: (
        c.create_alias(FunctionName="conf", Name="gone", FunctionVersion="1"),
        c.delete_alias(FunctionName="conf", Name="gone"),
    ),
    "Invoke": lambda c: c.invoke(FunctionName="conf", Payload=b"{}"),
    "AddPermission": lambda c: c.add_permission(
        FunctionName=fresh(c), StatementId="s", Action="lambda:InvokeFunction", Principal=ACCOUNT
    ),
    "GetPolicy": lambda c: c.get_policy(FunctionName=_with_permission(c)),
    "RemovePermission": lambda c: c.remove_permission(
        FunctionName=_with_permission(c), StatementId="s1"
    ),
    "PutFunctionConcurrency": lambda c: c.put_function_concurrency(
        FunctionName=fresh(c), ReservedConcurrentExecutions=1
    ),
    "GetFunctionConcurrency": lambda c: c.get_function_concurrency(FunctionName="conf"),
    "DeleteFunctionConcurrency": lambda c: c.delete_function_concurrency(FunctionName=fresh(c)),
    "CreateFunctionUrlConfig": lambda c: c.create_function_url_config(
        FunctionName=fresh(c), AuthType="AWS_IAM", Cors={"AllowOrigins": ["*"]}
    ),
    "GetFunctionUrlConfig": lambda c: c.get_function_url_config(FunctionName=_with_url(c)),
    "UpdateFunctionUrlConfig": lambda c: c.update_function_url_config(
        FunctionName=_with_url(c), AuthType="AWS_IAM"
    ),
    "DeleteFunctionUrlConfig": lambda c: c.delete_function_url_config(FunctionName=_with_url(c)),
    "ListFunctionUrlConfigs": lambda c: c.list_function_url_configs(FunctionName=_with_url(c)),
    "PutFunctionEventInvokeConfig": lambda c: c.put_function_event_invoke_config(
        FunctionName=fresh(c), MaximumEventAgeInSeconds=120
    ),
    "UpdateFunctionEventInvokeConfig": lambda c: c.update_function_event_invoke_config(
        FunctionName=_with_invoke_config(c), MaximumRetryAttempts=0
    ),
    "GetFunctionEventInvokeConfig": lambda c: c.get_function_event_invoke_config(
        FunctionName=_with_invoke_config(c)
    ),
    "DeleteFunctionEventInvokeConfig": lambda c: c.delete_function_event_invoke_config(
        FunctionName=_with_invoke_config(c)
    ),
    "ListFunctionEventInvokeConfigs": lambda c: c.list_function_event_invoke_configs(
        FunctionName=_with_invoke_config(c)
    ),
    "TagResource": lambda c: c.tag_resource(Resource=arn(fresh(c)), Tags={"a": "b"}),
    "UntagResource": lambda c: c.untag_resource(Resource=arn("conf"), TagKeys=["nope"]),
    "ListTags": lambda c: c.list_tags(Resource=arn("conf")),
    "GetAccountSettings": lambda c: c.get_account_settings(),
    "GetFunctionRecursionConfig": lambda c: c.get_function_recursion_config(FunctionName="conf"),
    "PutFunctionRecursionConfig": lambda c: c.put_function_recursion_config(
        FunctionName=fresh(c), RecursiveLoop="Allow"
    ),
    "GetRuntimeManagementConfig": lambda c: c.get_runtime_management_config(FunctionName="conf"),
    "PutRuntimeManagementConfig": lambda c: c.put_runtime_management_config(
        FunctionName=fresh(c), UpdateRuntimeOn="FunctionUpdate"
    ),
    "InvokeWithResponseStream": lambda c: list(
        c.invoke_with_response_stream(FunctionName="conf", Payload=b"{}")["EventStream"]
    ),
    "InvokeAsync": lambda c: c.invoke_async(FunctionName="conf", InvokeArgs=b"{}"),
    "PutProvisionedConcurrencyConfig": lambda c: c.put_provisioned_concurrency_config(
        FunctionName=fresh(c, Publish=True), Qualifier="1", ProvisionedConcurrentExecutions=1
    ),
    "GetProvisionedConcurrencyConfig": lambda c: c.get_provisioned_concurrency_config(
        FunctionName=_with_provisioned(c), Qualifier="1"
    ),
    "ListProvisionedConcurrencyConfigs": lambda c: c.list_provisioned_concurrency_configs(
        FunctionName=_with_provisioned(c)
    ),
    "PublishLayerVersion": _layer,
    "GetLayerVersion": lambda c: c.get_layer_version(
        **dict(zip(("LayerName", "VersionNumber"), _layer(c), strict=True))
    ),
    "GetLayerVersionByArn": lambda c: c.get_layer_version_by_arn(
        Arn=c.get_layer_version(
            **dict(zip(("LayerName", "VersionNumber"), _layer(c), strict=True))
        )["LayerVersionArn"]
    ),
    "ListLayers": lambda c: (_layer(c), c.list_layers(CompatibleRuntime="python3.11")),
    "ListLayerVersions": lambda c: c.list_layer_versions(LayerName=_layer(c)[0]),
    "DeleteLayerVersion": lambda c: c.delete_layer_version(
        **dict(zip(("LayerName", "VersionNumber"), _layer(c), strict=True))
    ),
    "AddLayerVersionPermission": _layer_with_permission,
    "GetLayerVersionPolicy": lambda c: c.get_layer_version_policy(
        **dict(zip(("LayerName", "VersionNumber"), _layer_with_permission(c), strict=True))
    ),
    "RemoveLayerVersionPermission": lambda c: c.remove_layer_version_permission(
        **dict(zip(("LayerName", "VersionNumber"), _layer_with_permission(c), strict=True)),
        StatementId="s1",
    ),
    "DeleteProvisionedConcurrencyConfig": lambda c: c.delete_provisioned_concurrency_config(
        FunctionName=_with_provisioned(c), Qualifier="1"
    ),
    "CheckpointDurableExecution": lambda c: holding_invocation(
        c,
        lambda arn, token: c.checkpoint_durable_execution(
            DurableExecutionArn=arn,
            CheckpointToken=token,
            Updates=[{"Id": "s1", "Type": "STEP", "Action": "START", "Name": "one"}],
        ),
    ),
    "GetDurableExecutionState": lambda c: holding_invocation(
        c,
        lambda arn, token: c.get_durable_execution_state(
            DurableExecutionArn=arn, CheckpointToken=token
        ),
    ),
    "GetDurableExecution": lambda c: c.get_durable_execution(
        DurableExecutionArn=callback_execution(c)[0], IncludeExecutionData=True
    ),
    "GetDurableExecutionHistory": lambda c: c.get_durable_execution_history(
        DurableExecutionArn=callback_execution(c)[0], IncludeExecutionData=True
    ),
    "ListDurableExecutionsByFunction": lambda c: (
        callback_execution(c),
        c.list_durable_executions_by_function(FunctionName="durable-callback"),
    ),
    "StopDurableExecution": lambda c: c.stop_durable_execution(
        DurableExecutionArn=callback_execution(c)[0]
    ),
    "SendDurableExecutionCallbackSuccess": lambda c: c.send_durable_execution_callback_success(
        CallbackId=callback_execution(c)[1], Result=b'"ok"'
    ),
    "SendDurableExecutionCallbackFailure": lambda c: c.send_durable_execution_callback_failure(
        CallbackId=callback_execution(c)[1], Error={"ErrorType": "No", "ErrorMessage": "no"}
    ),
    "SendDurableExecutionCallbackHeartbeat": lambda c: c.send_durable_execution_callback_heartbeat(
        CallbackId=callback_execution(c)[1]
    ),
}


def served_operations() -> set[str]:
    """The model's operations the platform routes (the access table lists every route)."""
    return {
        name for method, path in api.OPERATIONS for name in api.model.operations_at(method, path)
    }


def test_every_served_operation_has_a_conformance_call() -> None:
    assert sorted(served_operations() - set(CALLS)) == []
    assert sorted(set(CALLS) - served_operations()) == []


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_each_operation_answers_in_its_models_output_shape(
    recorded: tuple[Any, Recorder], operation: str
) -> None:
    client, recorder = recorded
    recorder.responses.pop(operation, None)
    CALLS[operation](client)
    status, headers, body = recorder.responses[operation]
    model = client.meta.service_model.operation_model(operation)
    assert response_problems(model, status, headers, body) == []


# error -> a call that provokes it, and the code AWS answers with.
ERRORS: dict[str, tuple[Callable[[Any], object], str]] = {
    "unknown function": (
        lambda c: c.get_function(FunctionName="ghost"),
        "ResourceNotFoundException",
    ),
    "taken name": (lambda c: create_function(c, "conf"), "ResourceConflictException"),
    "bad memory": (
        lambda c: create_function(c, "x", MemorySize=20000),
        "InvalidParameterValueException",
    ),
    "model violation": (lambda c: create_function(c, "x", Timeout=0), "ValidationException"),
    "stale revision": (
        lambda c: c.update_function_configuration(FunctionName="conf", RevisionId="nope"),
        "PreconditionFailedException",
    ),
    "not json": (
        lambda c: c.invoke(FunctionName="conf", Payload=b"{"),
        "InvalidRequestContentException",
    ),
    "foreign account": (
        lambda c: c.get_function(FunctionName="111111111111:function:conf"),
        "AccessDeniedException",
    ),
    "unknown signing config": (
        lambda c: create_function(
            c,
            "x",
            CodeSigningConfigArn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0",
        ),
        "CodeSigningConfigNotFoundException",
    ),
    "unknown durable execution": (
        lambda c: c.get_durable_execution(
            DurableExecutionArn=arn("conf", "1") + "/durable-execution/none/0123"
        ),
        "ResourceNotFoundException",
    ),
    "too large": (
        lambda c: c.invoke(FunctionName="conf", Payload=b'"' + b"x" * (7 * 1024 * 1024) + b'"'),
        "RequestTooLargeException",
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_each_error_answers_with_awss_code_and_error_shape(
    recorded: tuple[Any, Recorder], case: str
) -> None:
    from botocore.exceptions import ClientError

    client, recorder = recorded
    call, code = ERRORS[case]
    recorder.responses.clear()
    with pytest.raises(ClientError) as raised:
        call(client)
    assert raised.value.response["Error"]["Code"] == code
    ((status, _, body),) = recorder.responses.values()
    assert error_problems(client.meta.service_model, code, status, body) == []
