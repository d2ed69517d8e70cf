"""The control API through a real boto3 Lambda client against a running platform:
functions, code, configuration, versions, aliases, concurrency, URL configs, the error
shapes boto3 turns into its usual exceptions, and persistence across a restart."""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request

import pytest

from tests.platform.conftest import start_platform
from tests.platform.packages import create_function, handler_zip, make_zip


def error_code(excinfo: pytest.ExceptionInfo[Exception]) -> str:
    return excinfo.value.response["Error"]["Code"]  # type: ignore[attr-defined]


def error_message(excinfo: pytest.ExceptionInfo[Exception]) -> str:
    return excinfo.value.response["Error"]["Message"]  # type: ignore[attr-defined]


def test_create_get_and_list_a_function(lambda_client, running_platform):
    package = handler_zip()
    created = create_function(
        lambda_client,
        "hello",
        Code={"ZipFile": package},
        Description="says hello",
        Environment={"Variables": {"GREETING": "hi"}},
        MemorySize=256,
    )
    digest = hashlib.sha256(package).digest()
    assert created["CodeSha256"] == base64.b64encode(digest).decode()
    assert created["CodeSize"] == len(package)
    assert created["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:hello"
    assert created["Version"] == "$LATEST"
    assert created["State"] == "Active"
    assert (created["Timeout"], created["MemorySize"]) == (3, 256)
    assert created["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["ResponseMetadata"]["RequestId"]

    fetched = lambda_client.get_function(FunctionName="hello")
    configuration = lambda_client.get_function_configuration(FunctionName="hello")
    for answer in (fetched["Configuration"], configuration):
        assert answer["CodeSha256"] == created["CodeSha256"]
        assert answer["RevisionId"] == created["RevisionId"]
        assert answer["Description"] == "says hello"
    with urllib.request.urlopen(fetched["Code"]["Location"], timeout=10) as response:
        assert response.read() == package

    arn = created["FunctionArn"]
    assert lambda_client.get_function_configuration(FunctionName=arn)["FunctionName"] == "hello"
    listed = lambda_client.list_functions()["Functions"]
    assert [f["FunctionName"] for f in listed] == ["hello"]


def test_list_functions_pages(lambda_client):
    for index in range(5):
        create_function(lambda_client, f"fn{index}")
    first = lambda_client.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["fn0", "fn1"]
    assert first["NextMarker"]
    paginator = lambda_client.get_paginator("list_functions")
    names = [
        f["FunctionName"]
        for page in paginator.paginate(PaginationConfig={"PageSize": 2})
        for f in page["Functions"]
    ]
    assert names == [f"fn{index}" for index in range(5)]


def test_create_twice_is_a_conflict(lambda_client):
    create_function(lambda_client, "twice")
    with pytest.raises(lambda_client.exceptions.ResourceConflictException) as excinfo:
        create_function(lambda_client, "twice")
    assert "Function already exist: twice" in error_message(excinfo)


def test_unknown_functions_are_not_found(lambda_client):
    calls = [
        lambda: lambda_client.get_function(FunctionName="ghost"),
        lambda: lambda_client.get_function_configuration(FunctionName="ghost"),
        lambda: lambda_client.delete_function(FunctionName="ghost"),
        lambda: lambda_client.update_function_configuration(FunctionName="ghost", Timeout=5),
        lambda: lambda_client.update_function_code(FunctionName="ghost", ZipFile=handler_zip()),
        lambda: lambda_client.publish_version(FunctionName="ghost"),
        lambda: lambda_client.list_versions_by_function(FunctionName="ghost"),
        lambda: lambda_client.list_aliases(FunctionName="ghost"),
        lambda: lambda_client.get_function_concurrency(FunctionName="ghost"),
        lambda: lambda_client.get_function_url_config(FunctionName="ghost"),
    ]
    for call in calls:
        with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
            call()
        assert "function:ghost" in error_message(excinfo)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"MemorySize": 20000}, "less than or equal to 10240"),
        ({"Timeout": 901}, "less than or equal to 900"),
        ({"Runtime": "nodejs20.x"}, "not supported by strum's platform"),
        ({"Runtime": "python3.7"}, "no longer supported"),
        ({"Environment": {"Variables": {"BIG": "x" * 4100}}}, "exceeded the 4KB limit"),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            "Reserved keys used in this request: AWS_REGION",
        ),
        ({"Code": {"ZipFile": b"not a zip"}}, "Could not unzip uploaded file"),
        ({"Code": {"ZipFile": make_zip({"../up.py": ""})}}, "outside the package"),
        ({"Code": {"S3Bucket": "bucket", "S3Key": "key.zip"}}, "NoSuchBucket"),
        ({"Code": {"S3Bucket": "strum-uploads", "S3Key": "0" * 64 + ".zip"}}, "NoSuchKey"),
        ({"Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:l:1"]}, "does not exist"),
        ({"PackageType": "Image", "Code": {"ImageUri": "x"}}, ".zip packages only"),
        ({"EphemeralStorage": {"Size": 20000}}, "less than or equal to 10240"),
    ],
)
def test_invalid_parameters(lambda_client, fields, fragment):
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        create_function(lambda_client, "bad", **fields)
    assert fragment in error_message(excinfo)
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName="bad")


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"Handler": ""}, "Value '' at 'handler' failed to satisfy constraint"),
        ({"Architectures": ["sparc"]}, "Member must satisfy enum value set: [x86_64, arm64]"),
    ],
)
def test_values_breaking_the_model_are_validation_errors(running_platform, fields, fragment):
    client = running_platform.client(parameter_validation=False)
    with pytest.raises(client.exceptions.ClientError) as excinfo:
        create_function(client, "bad", **fields)
    assert error_code(excinfo) == "ValidationException"
    assert fragment in error_message(excinfo)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"FunctionName": "has space"}, "at 'functionName' failed to satisfy constraint"),
        ({"FunctionName": "x" * 65}, "at 'functionName'"),
        ({"Role": "not-a-role"}, "at 'role' failed to satisfy constraint"),
    ],
)
def test_values_breaking_the_api_model_are_validation_errors(lambda_client, fields, fragment):
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        create_function(lambda_client, **fields)
    assert error_code(excinfo) == "ValidationException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fragment in error_message(excinfo)


def test_update_code_and_configuration(lambda_client, running_platform):
    created = create_function(lambda_client, "upd", Environment={"Variables": {"AA": "1"}})
    new_package = handler_zip("two")
    updated = lambda_client.update_function_code(FunctionName="upd", ZipFile=new_package)
    assert updated["CodeSha256"] == base64.b64encode(hashlib.sha256(new_package).digest()).decode()
    assert updated["RevisionId"] != created["RevisionId"]
    assert updated["Environment"] == {"Variables": {"AA": "1"}}

    dry = lambda_client.update_function_code(
        FunctionName="upd", ZipFile=handler_zip("three"), DryRun=True
    )
    assert dry["CodeSha256"] != updated["CodeSha256"]
    current = lambda_client.get_function_configuration(FunctionName="upd")
    assert current["CodeSha256"] == updated["CodeSha256"]

    configured = lambda_client.update_function_configuration(
        FunctionName="upd",
        Timeout=30,
        Environment={"Variables": {"BB": "2"}},
        RevisionId=current["RevisionId"],
    )
    assert configured["Timeout"] == 30
    assert configured["Environment"] == {"Variables": {"BB": "2"}}
    assert configured["Handler"] == "app.handler"
    assert configured["CodeSha256"] == updated["CodeSha256"]

    with pytest.raises(lambda_client.exceptions.PreconditionFailedException):
        lambda_client.update_function_configuration(
            FunctionName="upd", Timeout=5, RevisionId=current["RevisionId"]
        )
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.update_function_configuration(FunctionName="upd", MemorySize=10241)
    assert "10240" in error_message(excinfo)
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.update_function_code(FunctionName="upd", ZipFile=b"PK-not-really")


def test_versions(lambda_client):
    created = create_function(lambda_client, "ver", Publish=True)
    assert created["Version"] == "1"
    # AWS answers the unqualified ARN, Version naming the version published.
    assert created["FunctionArn"].endswith(":function:ver")
    again = lambda_client.publish_version(FunctionName="ver")
    assert again["Version"] == "1"  # nothing changed since version 1

    lambda_client.update_function_code(FunctionName="ver", ZipFile=handler_zip("two"))
    latest = lambda_client.get_function_configuration(FunctionName="ver")
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.publish_version(FunctionName="ver", CodeSha256=created["CodeSha256"])
    assert "CodeSHA256" in error_message(excinfo)
    second = lambda_client.publish_version(
        FunctionName="ver", Description="second", CodeSha256=latest["CodeSha256"]
    )
    assert second["Version"] == "2"
    assert second["Description"] == "second"
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 201

    versions = lambda_client.list_versions_by_function(FunctionName="ver")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[1]["CodeSha256"] == created["CodeSha256"]
    assert versions[2]["CodeSha256"] == latest["CodeSha256"]
    old = lambda_client.get_function(FunctionName="ver", Qualifier="1")["Configuration"]
    assert (old["Version"], old["CodeSha256"]) == ("1", created["CodeSha256"])
    assert lambda_client.get_function(FunctionName="ver:2")["Configuration"]["Version"] == "2"
    every = lambda_client.list_functions(FunctionVersion="ALL")["Functions"]
    assert [f["Version"] for f in every] == ["$LATEST", "1", "2"]

    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
        lambda_client.get_function(FunctionName="ver", Qualifier="9")
    assert "function:ver:9" in error_message(excinfo)
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException):
        lambda_client.delete_function(FunctionName="ver", Qualifier="$LATEST")
    lambda_client.delete_function(FunctionName="ver", Qualifier="1")
    versions = lambda_client.list_versions_by_function(FunctionName="ver")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]


def test_aliases_with_weighted_routing(lambda_client):
    create_function(lambda_client, "al", Publish=True)
    lambda_client.update_function_code(FunctionName="al", ZipFile=handler_zip("two"))
    lambda_client.publish_version(FunctionName="al")

    alias = lambda_client.create_alias(
        FunctionName="al",
        Name="live",
        FunctionVersion="1",
        Description="prod",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    assert alias["AliasArn"].endswith(":function:al:live")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert lambda_client.get_alias(FunctionName="al", Name="live")["FunctionVersion"] == "1"
    with pytest.raises(lambda_client.exceptions.ResourceConflictException):
        lambda_client.create_alias(FunctionName="al", Name="live", FunctionVersion="1")

    updated = lambda_client.update_alias(
        FunctionName="al",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
        RevisionId=alias["RevisionId"],
    )
    assert updated["FunctionVersion"] == "2"
    assert "RoutingConfig" not in updated
    assert updated["Description"] == "prod"
    with pytest.raises(lambda_client.exceptions.PreconditionFailedException):
        lambda_client.update_alias(FunctionName="al", Name="live", RevisionId=alias["RevisionId"])

    lambda_client.create_alias(FunctionName="al", Name="edge", FunctionVersion="$LATEST")
    names = [a["Name"] for a in lambda_client.list_aliases(FunctionName="al")["Aliases"]]
    assert names == ["edge", "live"]
    only_two = lambda_client.list_aliases(FunctionName="al", FunctionVersion="2")["Aliases"]
    assert [a["Name"] for a in only_two] == ["live"]
    by_alias = lambda_client.get_function_configuration(FunctionName="al", Qualifier="live")
    assert by_alias["Version"] == "2"

    with pytest.raises(lambda_client.exceptions.ResourceConflictException) as excinfo:
        lambda_client.delete_function(FunctionName="al", Qualifier="2")
    assert "live" in error_message(excinfo)
    lambda_client.delete_alias(FunctionName="al", Name="live")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as excinfo:
        lambda_client.get_alias(FunctionName="al", Name="live")
    assert (
        "Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:al:live"
        in error_message(excinfo)
    )


@pytest.mark.parametrize(
    ("fields", "error", "fragment"),
    [
        ({"FunctionVersion": "7"}, "ResourceNotFoundException", "function:al:7"),
        ({"Name": "123"}, "ValidationException", "at 'name'"),
        ({"FunctionVersion": "latest"}, "ValidationException", "at 'functionVersion'"),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}},
            "InvalidParameterValueException",
            "already included",
        ),
        (
            {"RoutingConfig": {"AdditionalVersionWeights": {"1": 1.5}}},
            "ValidationException",
            "between 0.0 and 1.0",
        ),
        (
            {
                "FunctionVersion": "$LATEST",
                "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}},
            },
            "InvalidParameterValueException",
            "$LATEST is not supported",
        ),
    ],
)
def test_invalid_aliases(lambda_client, fields, error, fragment):
    create_function(lambda_client, "al", Publish=True)
    request = {"FunctionName": "al", "Name": "a", "FunctionVersion": "1", **fields}
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        lambda_client.create_alias(**request)
    assert error_code(excinfo) == error
    assert fragment in error_message(excinfo)


def test_reserved_concurrency(lambda_client, running_platform):
    create_function(lambda_client, "conc")
    assert "ReservedConcurrentExecutions" not in lambda_client.get_function_concurrency(
        FunctionName="conc"
    )
    put = lambda_client.put_function_concurrency(
        FunctionName="conc", ReservedConcurrentExecutions=3
    )
    assert put["ReservedConcurrentExecutions"] == 3
    assert (
        lambda_client.get_function_concurrency(FunctionName="conc")["ReservedConcurrentExecutions"]
        == 3
    )
    assert lambda_client.get_function(FunctionName="conc")["Concurrency"] == {
        "ReservedConcurrentExecutions": 3
    }
    limit = running_platform.platform.settings.max_concurrency
    with pytest.raises(lambda_client.exceptions.InvalidParameterValueException) as excinfo:
        lambda_client.put_function_concurrency(
            FunctionName="conc", ReservedConcurrentExecutions=limit + 1
        )
    assert "UnreservedConcurrentExecution" in error_message(excinfo)
    lambda_client.delete_function_concurrency(FunctionName="conc")
    assert "Concurrency" not in lambda_client.get_function(FunctionName="conc")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.put_function_concurrency(FunctionName="nope", ReservedConcurrentExecutions=1)


def test_function_url_configs(lambda_client, running_platform):
    create_function(lambda_client, "web", Publish=True)
    lambda_client.create_alias(FunctionName="web", Name="live", FunctionVersion="1")
    created = lambda_client.create_function_url_config(
        FunctionName="web", AuthType="NONE", Cors={"AllowOrigins": ["*"], "MaxAge": 60}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    url = created["FunctionUrl"]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/")
    assert created["FunctionArn"].endswith(":function:web")
    assert created["InvokeMode"] == "BUFFERED"
    assert created["Cors"] == {"AllowOrigins": ["*"], "MaxAge": 60}
    stored = running_platform.platform.store.get_url_config("web")
    assert stored["port"] == int(url.rsplit(":", 1)[1].rstrip("/"))

    with pytest.raises(lambda_client.exceptions.ResourceConflictException) as excinfo:
        lambda_client.create_function_url_config(FunctionName="web", AuthType="NONE")
    assert "FunctionUrlConfig exists" in error_message(excinfo)

    fetched = lambda_client.get_function_url_config(FunctionName="web")
    assert fetched["FunctionUrl"] == url
    assert fetched["LastModifiedTime"]
    updated = lambda_client.update_function_url_config(
        FunctionName="web", AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM"
    )
    assert (updated["AuthType"], updated["InvokeMode"]) == ("AWS_IAM", "RESPONSE_STREAM")
    assert updated["Cors"] == {"AllowOrigins": ["*"], "MaxAge": 60}
    assert updated["FunctionUrl"] == url

    aliased = lambda_client.create_function_url_config(
        FunctionName="web", Qualifier="live", AuthType="NONE"
    )
    assert aliased["FunctionArn"].endswith(":function:web:live")
    assert aliased["FunctionUrl"] != url
    listed = lambda_client.list_function_url_configs(FunctionName="web")["FunctionUrlConfigs"]
    assert sorted(c["FunctionUrl"] for c in listed) == sorted([url, aliased["FunctionUrl"]])

    lambda_client.delete_function_url_config(FunctionName="web")
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function_url_config(FunctionName="web")
    assert running_platform.platform.urls.url_for("web") is None

    lambda_client.delete_alias(FunctionName="web", Name="live")  # takes its URL with it
    assert running_platform.platform.store.list_url_configs("web") == []


@pytest.mark.parametrize(
    ("fields", "error", "fragment"),
    [
        ({"AuthType": "OPEN"}, "ValidationException", "at 'authType'"),
        ({"InvokeMode": "FAST"}, "ValidationException", "at 'invokeMode'"),
        ({"Cors": {"AllowMethods": ["FETCH"]}}, "InvalidParameterValueException", "FETCH"),
        ({"Qualifier": "1"}, "ValidationException", "at 'qualifier'"),
        ({"Qualifier": "missing"}, "ResourceNotFoundException", "function:web:missing"),
    ],
)
def test_invalid_url_configs(lambda_client, fields, error, fragment):
    create_function(lambda_client, "web", Publish=True)
    request = {"FunctionName": "web", "AuthType": "NONE", **fields}
    with pytest.raises(lambda_client.exceptions.ClientError) as excinfo:
        lambda_client.create_function_url_config(**request)
    assert error_code(excinfo) == error
    assert fragment in error_message(excinfo)


def test_delete_function_removes_everything(lambda_client, running_platform):
    create_function(lambda_client, "gone", Publish=True)
    lambda_client.create_alias(FunctionName="gone", Name="live", FunctionVersion="1")
    lambda_client.put_function_concurrency(FunctionName="gone", ReservedConcurrentExecutions=2)
    lambda_client.create_function_url_config(FunctionName="gone", AuthType="NONE")
    deleted = lambda_client.delete_function(FunctionName="gone")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.get_function(FunctionName="gone")
    store = running_platform.platform.store
    assert store.list_url_configs() == []
    assert store.concurrency("gone") is None
    assert running_platform.platform.urls.url_for("gone") is None
    create_function(lambda_client, "gone")  # the name is free again, with nothing attached
    assert lambda_client.list_aliases(FunctionName="gone")["Aliases"] == []
    assert (
        lambda_client.list_versions_by_function(FunctionName="gone")["Versions"][-1]["Version"]
        == "$LATEST"
    )


def test_error_wire_shape(running_platform):
    request = running_platform.request("/2015-03-31/functions/nope")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 404
    assert excinfo.value.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert excinfo.value.headers["x-amzn-RequestId"]
    body = json.loads(excinfo.value.read())
    excinfo.value.close()
    assert body == {
        "Type": "User",
        "Message": "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope",
    }


def test_everything_survives_a_restart(tmp_path):
    home = tmp_path / "home"
    first = start_platform(home)
    try:
        client = first.client()
        created = create_function(client, "keep", Publish=True, Timeout=7)
        client.update_function_code(FunctionName="keep", ZipFile=handler_zip("two"))
        client.publish_version(FunctionName="keep")
        client.create_alias(
            FunctionName="keep",
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
        )
        client.put_function_concurrency(FunctionName="keep", ReservedConcurrentExecutions=4)
        url = client.create_function_url_config(
            FunctionName="keep", AuthType="NONE", Cors={"AllowOrigins": ["https://a.example"]}
        )["FunctionUrl"]
        before = client.get_function_configuration(FunctionName="keep")
    finally:
        first.stop()

    second = start_platform(home)
    try:
        client = second.client()
        after = client.get_function_configuration(FunctionName="keep")
        assert {**after, "ResponseMetadata": None} == {**before, "ResponseMetadata": None}
        versions = client.list_versions_by_function(FunctionName="keep")["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
        assert versions[1]["CodeSha256"] == created["CodeSha256"]
        assert versions[1]["Timeout"] == 7
        alias = client.get_alias(FunctionName="keep", Name="live")
        assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
        concurrency = client.get_function_concurrency(FunctionName="keep")
        assert concurrency["ReservedConcurrentExecutions"] == 4
        config = client.get_function_url_config(FunctionName="keep")
        assert config["Cors"] == {"AllowOrigins": ["https://a.example"]}
        assert config["FunctionUrl"].startswith("http://127.0.0.1:")
        assert second.platform.urls.url_for("keep") == config["FunctionUrl"]
        assert url  # the port is reused when free; a fresh one otherwise (see test_urls)
        with pytest.raises(client.exceptions.ResourceConflictException):
            create_function(client, "keep")
    finally:
        second.stop()
