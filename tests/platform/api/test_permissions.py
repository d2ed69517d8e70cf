"""Resource-based policies through boto3: AddPermission, GetPolicy, RemovePermission in AWS's
shapes, and what they allow - another function, or a key, invoking a function it could not."""

from __future__ import annotations

import json

import pytest

from tests.platform.packages import create_function

ARN = "arn:aws:lambda:us-east-1:000000000000:function:target"


def code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def test_add_get_and_remove_permissions(lambda_client):
    create_function(lambda_client, "target", Publish=True)
    lambda_client.create_alias(FunctionName="target", Name="live", FunctionVersion="1")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_policy(FunctionName="target")
    added = lambda_client.add_permission(
        FunctionName="target",
        StatementId="s3-uploads",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads",
        SourceAccount="000000000000",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "s3-uploads",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": ARN,
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::uploads"},
            "StringEquals": {"AWS:SourceAccount": "000000000000"},
        },
    }
    lambda_client.add_permission(
        FunctionName="target",
        StatementId="account",
        Action="lambda:GetFunction",
        Principal="111122223333",
    )
    policy = lambda_client.get_policy(FunctionName="target")
    document = json.loads(policy["Policy"])
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == ["s3-uploads", "account"]
    assert document["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert policy["RevisionId"]
    with pytest.raises(lambda_client.exceptions.ResourceConflictException) as excinfo:
        lambda_client.add_permission(
            FunctionName="target", StatementId="account", Action="lambda:*", Principal="*"
        )
    assert "The statement id (account) provided already exists" in str(excinfo.value)
    # An alias has a policy of its own.
    lambda_client.add_permission(
        FunctionName="target",
        Qualifier="live",
        StatementId="anyone",
        Action="lambda:InvokeFunction",
        Principal="*",
    )
    live = json.loads(lambda_client.get_policy(FunctionName="target", Qualifier="live")["Policy"])
    assert live["Statement"][0]["Resource"] == ARN + ":live"
    assert (
        len(json.loads(lambda_client.get_policy(FunctionName="target")["Policy"])["Statement"]) == 2
    )
    # Stale revision ids are refused, as AWS's optimistic locking does.
    with pytest.raises(lambda_client.exceptions.PreconditionFailedException):
        lambda_client.remove_permission(
            FunctionName="target", StatementId="account", RevisionId="stale"
        )
    lambda_client.remove_permission(FunctionName="target", StatementId="account")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
        lambda_client.remove_permission(FunctionName="target", StatementId="account")
    assert "Statement account is not found in resource policy." in str(excinfo.value)
    lambda_client.remove_permission(FunctionName="target", StatementId="s3-uploads")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_policy(FunctionName="target")
    # Deleting the alias takes its policy with it.
    lambda_client.delete_alias(FunctionName="target", Name="live")
    lambda_client.create_alias(FunctionName="target", Name="live", FunctionVersion="1")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_policy(FunctionName="target", Qualifier="live")


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"StatementId": "has space"}, "at 'statementId' failed to satisfy constraint"),
        ({"Action": "s3:GetObject"}, "at 'action' failed to satisfy constraint"),
        ({"SourceAccount": "123"}, "at 'sourceAccount' failed to satisfy constraint"),
        ({"FunctionUrlAuthType": "BASIC"}, "at 'functionUrlAuthType' failed to satisfy constraint"),
    ],
)
def test_bad_permissions_are_validation_errors(lambda_client, fields, fragment):
    create_function(lambda_client, "target")
    request = {
        "FunctionName": "target",
        "StatementId": "ok",
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        **fields,
    }
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        lambda_client.add_permission(**request)
    assert code(excinfo) == "ValidationException"
    assert fragment in str(excinfo.value)


def test_a_permission_on_a_function_lets_a_key_invoke_it(running_platform, lambda_client):
    create_function(lambda_client, "target")
    create_function(lambda_client, "other")
    key = running_platform.platform.keys.create(
        "reader",
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "lambda:Get*", "Resource": "*"}]}),
    )
    reader = running_platform.client(key=key)
    with pytest.raises(reader.exceptions.ClientError) as excinfo:
        reader.invoke(FunctionName="target", Payload=b"{}")
    assert code(excinfo) == "AccessDeniedException"
    lambda_client.add_permission(
        FunctionName="target",
        StatementId="reader-invokes",
        Action="lambda:InvokeFunction",
        Principal="arn:aws:iam::000000000000:user/reader",
    )
    assert reader.invoke(FunctionName="target", Payload=b"{}")["StatusCode"] == 200
    # Only that function, only that action.
    with pytest.raises(reader.exceptions.ClientError) as excinfo:
        reader.invoke(FunctionName="other", Payload=b"{}")
    assert code(excinfo) == "AccessDeniedException"
    with pytest.raises(reader.exceptions.ClientError) as excinfo:
        reader.delete_function(FunctionName="target")
    assert code(excinfo) == "AccessDeniedException"
    # Granting the account (not the key) delegates to the account: the key still needs a
    # policy of its own, as on AWS.
    lambda_client.add_permission(
        FunctionName="other",
        StatementId="account",
        Action="lambda:InvokeFunction",
        Principal="000000000000",
    )
    with pytest.raises(reader.exceptions.ClientError) as excinfo:
        reader.invoke(FunctionName="other", Payload=b"{}")
    assert code(excinfo) == "AccessDeniedException"
    # And a limited key may not grant itself more.
    with pytest.raises(reader.exceptions.ClientError) as excinfo:
        reader.add_permission(
            FunctionName="other", StatementId="me", Action="lambda:*", Principal="*"
        )
    assert code(excinfo) == "AccessDeniedException"
