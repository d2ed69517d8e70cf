"""Attacks on a real platform, as an attacker works: a hostile function, a hostile local
process, a stranger's keys - each refused with AWS's errors - and the allowed paths
(``@task``, a declared cross-function invoke, a key limited to one function) still open.

The hostile function runs unsandboxed here (the platform tests' default), which is exactly
the case of a function granted ``network = true``: it reaches the platform's API directly.
It uses boto3, which finds the platform through ``AWS_ENDPOINT_URL_LAMBDA`` and signs with
the instance's own ``AWS_ACCESS_KEY_ID``/``SECRET``/``SESSION_TOKEN``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from strum.deploy.local import PlatformLambdaAPI
from tests.platform.packages import ROLE, create_function, make_zip

# A small signed client, as a hostile function would write one (boto3 is not in the
# platform's Python runtime yet; the signing is AWS's SigV4 either way).
SIGNED_CLIENT = """
import base64, http.client, json, os
from urllib.parse import urlsplit
from strum.runtime.sigv4 import sign

def call(method, path, body=b"", headers=None):
    url = urlsplit(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    signed = sign(method=method, host=url.netloc, raw_path=path, body=body,
                  access_key=os.environ["AWS_ACCESS_KEY_ID"],
                  secret=os.environ["AWS_SECRET_ACCESS_KEY"],
                  session_token=os.environ["AWS_SESSION_TOKEN"],
                  region=os.environ["AWS_REGION"], headers=headers or {})
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request(method, path, body=body, headers=signed)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, response.getheader("x-amzn-ErrorType") or "allowed", payload
"""

ATTACKER = (
    SIGNED_CLIENT
    + """
F = "/2015-03-31/functions"

def handler(event, context):
    code = base64.b64encode(bytes.fromhex(event["zip"])).decode()
    attempts = {
        "ListFunctions": ("GET", F + "/", b""),
        "GetFunctionConfiguration": ("GET", F + "/victim/configuration", b""),
        "GetFunction": ("GET", F + "/victim", b""),
        "UpdateFunctionCode": ("PUT", F + "/victim/code", json.dumps({"ZipFile": code}).encode()),
        "UpdateFunctionConfiguration": ("PUT", F + "/victim/configuration", json.dumps(
            {"Environment": {"Variables": {"PWNED": "1"}}}).encode()),
        "PublishVersion": ("POST", F + "/victim/versions", b"{}"),
        "DeleteFunction": ("DELETE", F + "/victim", b""),
        "UpdateAlias": ("PUT", F + "/victim/aliases/live", b'{"FunctionVersion": "1"}'),
        "CreateFunctionUrlConfig": ("POST", "/2021-10-31/functions/victim/url",
                                    b'{"AuthType": "NONE"}'),
        "InvokeVictim": ("POST", F + "/victim/invocations", b"{}"),
    }
    outcome = {"endpoint": os.environ.get("AWS_ENDPOINT_URL_LAMBDA"),
               "key": os.environ.get("AWS_ACCESS_KEY_ID", "")[:4]}
    for name, (method, path, body) in attempts.items():
        outcome[name] = call(method, path, body)[1]
    status, _, _ = call("POST", F + "/" + context.function_name + "/invocations", b'{"q": 1}',
                        {"X-Amz-Invocation-Type": "Event"})
    outcome["InvokeSelf"] = status
    return outcome
"""
)

VICTIM = """
import os

def handler(event, context):
    return {"who": "victim", "secret": os.environ["DATABASE_PASSWORD"]}
"""

ATTACK_OPERATIONS = [
    "ListFunctions",
    "GetFunctionConfiguration",
    "GetFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "DeleteFunction",
    "UpdateAlias",
    "CreateFunctionUrlConfig",
    "InvokeVictim",
]


def deploy(client, name: str, source: str, **extra):
    return client.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})},
        Timeout=30,
        **extra,
    )


@pytest.fixture
def victim(lambda_client):
    deploy(
        lambda_client,
        "victim",
        VICTIM,
        Environment={"Variables": {"DATABASE_PASSWORD": "hunter2-victims-own"}},
        Publish=True,
    )
    lambda_client.create_alias(FunctionName="victim", Name="live", FunctionVersion="1")
    return lambda_client


def invoke(client, name: str, payload: object) -> dict:
    answer = client.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body


def test_a_function_cannot_take_over_another(victim, running_platform):
    lambda_client = victim
    deploy(lambda_client, "attacker", ATTACKER)
    evil = make_zip({"app.py": "def handler(e, c):\n    return {'who': 'attacker'}\n"})
    outcome = invoke(lambda_client, "attacker", {"zip": evil.hex()})
    # It reached the platform as itself: the endpoint and a session key from its env.
    assert outcome["endpoint"] == running_platform.endpoint
    assert outcome["key"] == "ASIA"
    assert {op: outcome[op] for op in ATTACK_OPERATIONS} == dict.fromkeys(
        ATTACK_OPERATIONS, "AccessDeniedException"
    )
    # What it may do by default: invoke itself (how @task works).
    assert outcome["InvokeSelf"] == 202
    # The victim is untouched: its code, its configuration, its alias, its secret.
    assert invoke(lambda_client, "victim", {}) == {
        "who": "victim",
        "secret": "hunter2-victims-own",
    }
    configuration = lambda_client.get_function_configuration(FunctionName="victim")
    assert "PWNED" not in configuration["Environment"]["Variables"]
    assert lambda_client.get_alias(FunctionName="victim", Name="live")["FunctionVersion"] == "1"
    # Every refusal is in the audit log, naming the attacker's role and the action.
    denied = [
        entry
        for entry in running_platform.platform.audit.query()
        if entry.decision == "denied: AccessDeniedException"
    ]
    assert {entry.action for entry in denied} >= {
        "lambda:ListFunctions",
        "lambda:UpdateFunctionCode",
        "lambda:GetFunctionConfiguration",
    }
    assert all(
        entry.principal == "arn:aws:sts::000000000000:assumed-role/attacker-role/attacker"
        for entry in denied
    )


def raw(running_platform, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(running_platform.endpoint + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("x-amzn-ErrorType", "")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers.get("x-amzn-ErrorType", "")


def test_an_unsigned_local_process_gets_nothing(running_platform, victim):
    for path in (
        "/2015-03-31/functions/",
        "/2015-03-31/functions/victim/configuration",
        "/strum/v1/status",
        "/strum/v1/logs?function=victim",
        "/strum/v1/events/dead",
        "/strum/v1/keys",
        "/strum/v1/audit",
        "/no/such/route",
    ):
        assert raw(running_platform, path) == (403, "MissingAuthenticationTokenException"), path
    # A bearer token, a Basic header, garbage: not AWS signatures.
    for header in ("Bearer anything", "Basic dXNlcjpwYXNz", "AWS4-HMAC-SHA256 garbage"):
        status, code = raw(running_platform, "/2015-03-31/functions/", {"Authorization": header})
        assert (status, code) == (400, "IncompleteSignatureException"), header
    # A header far past any real signature: refused at the HTTP layer, nothing crashes.
    status, _ = raw(running_platform, "/2015-03-31/functions/", {"Authorization": "A" * 20000})
    assert status == 400
    assert raw(running_platform, "/strum/v1/health") == (200, "")


def test_made_up_keys_signed_correctly_with_themselves_are_unrecognised(running_platform, victim):
    stranger = running_platform.client(
        key=("AKIAMADEUPMADEUP1234", "made-up-secret-of-40-characters-long!!")
    )
    with pytest.raises(stranger.exceptions.ClientError) as info:
        stranger.list_functions()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    owner = running_platform.owner
    impostor = running_platform.client(key=(owner.access_key_id, "not-the-owners-secret"))
    with pytest.raises(impostor.exceptions.ClientError) as info:
        impostor.list_functions()
    assert info.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_an_expired_session_token_is_refused(running_platform, victim):
    sessions = running_platform.platform.sessions
    old = sessions.issue(account="000000000000", function="victim", version="1", ttl_s=-1)
    client = running_platform.client(
        key=(old.access_key_id, old.secret_access_key), session_token=old.session_token
    )
    with pytest.raises(client.exceptions.ClientError) as info:
        client.invoke(FunctionName="victim", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "ExpiredTokenException"


def test_a_named_key_limited_to_one_function(running_platform, victim):
    create_function(victim, "other")
    keys = running_platform.platform.keys
    key = keys.create(
        "victim-invoker",
        json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:victim*",
                    }
                ]
            }
        ),
    )
    limited = running_platform.client(key=key)
    assert invoke(limited, "victim", {})["who"] == "victim"
    assert invoke(limited, "victim:live", {})["who"] == "victim"
    limited.get_function_configuration(FunctionName="victim")
    for attempt in (
        lambda: limited.invoke(FunctionName="other", Payload=b"{}"),
        lambda: limited.list_functions(),
        lambda: limited.delete_function(FunctionName="victim"),
    ):
        with pytest.raises(limited.exceptions.ClientError) as info:
            attempt()
        error = info.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert error["Message"].startswith(
            "User: arn:aws:iam::000000000000:user/victim-invoker is not authorized to perform: "
        )
    # Revoked mid-connection: the same client, the same kept-alive socket, refused next time.
    keys.revoke("victim-invoker")
    with pytest.raises(limited.exceptions.ClientError) as info:
        limited.invoke(FunctionName="victim", Payload=b"{}")
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"


TASKS = (
    SIGNED_CLIENT
    + """
from strum import task

@task
def note(text):
    with open(os.environ["RECORD"], "a") as record:
        record.write(text + "\\n")

def handler(event, context):
    if event.get("strum") == "task":  # what strum's entry router does for a task event
        return note.fn(*event["args"], **event["kwargs"])
    if event.get("call"):
        status, code, payload = call(
            "POST", "/2015-03-31/functions/" + event["call"] + "/invocations", b"{}")
        if status != 200:
            raise PermissionError(code + ": " + payload.decode())
        return {"called": json.loads(payload)}
    note.delay(event.get("text", "hello"))
    return {"queued": True}
"""
)


def test_allowed_paths_stay_open_task_and_a_declared_cross_function_invoke(
    running_platform, victim, tmp_path
):
    record = tmp_path / "record"
    api = PlatformLambdaAPI.for_home(running_platform.platform.home, running_platform.endpoint)
    configuration = {
        "FunctionName": "caller",
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "Timeout": 30,
        "Environment": {"Variables": {"RECORD": str(record)}},
        "StrumPermissions": {
            "Network": True,
            "Files": [],
            "Policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CallTheVictim",
                        "Effect": "Allow",
                        "Action": "lambda:InvokeFunction",
                        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:victim",
                    },
                    {
                        "Sid": "InvokeSelfForTasks",
                        "Effect": "Allow",
                        "Action": "lambda:InvokeFunction",
                        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:caller*",
                    },
                ],
            },
        },
    }
    with api:
        api.create_function(configuration, make_zip({"app.py": TASKS}))
    client = victim
    # The declared invoke of another function works, with the victim's real answer.
    assert invoke(client, "caller", {"call": "victim"})["called"]["who"] == "victim"
    # @task's .delay() signs with the instance's credentials and is allowed by its policy.
    assert invoke(client, "caller", {"text": "from a task"}) == {"queued": True}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "from a task" not in (
        record.read_text() if record.exists() else ""
    ):
        time.sleep(0.05)
    assert record.read_text().splitlines() == ["from a task"]
    # Nothing beyond what the policy names: the victim's alias is another resource.
    answer = client.invoke(FunctionName="caller", Payload=json.dumps({"call": "victim:live"}))
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert "AccessDeniedException" in error["errorMessage"]
    assert "function:victim:live" in error["errorMessage"]


def test_a_bad_policy_document_is_refused_with_its_line_and_field(running_platform):
    api = PlatformLambdaAPI.for_home(running_platform.platform.home, running_platform.endpoint)
    configuration = {
        "FunctionName": "badpolicy",
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "StrumPermissions": {
            "Network": False,
            "Files": [],
            "Policy": '{\n  "Statement": [\n    {"Effect": "Allow", "Action": "InvokeFunction",'
            ' "Resource": "*"}\n  ]\n}',
        },
    }
    from strum.deploy.local import LambdaAPIError

    with api, pytest.raises(LambdaAPIError) as info:
        api.create_function(configuration, make_zip({"app.py": VICTIM}))
    assert info.value.code == "InvalidParameterValueException"
    assert "StrumPermissions.Policy is refused: line 3: Statement[0].Action: " in str(info.value)


def test_under_tls_instances_still_reach_the_api_as_themselves(tmp_path):
    import boto3
    from botocore.config import Config

    from tests.platform.conftest import start_platform

    running = start_platform(tmp_path / "home", host="127.0.0.2", tls_names=("127.0.0.2",))
    try:
        assert running.endpoint.startswith("https://127.0.0.2:")
        owner = running.owner
        client = boto3.client(
            "lambda",
            endpoint_url=running.endpoint,
            region_name="us-east-1",
            aws_access_key_id=owner.access_key_id,
            aws_secret_access_key=owner.secret,
            verify=str(running.platform.tls.certificate),
            config=Config(retries={"max_attempts": 1}),
        )
        running.clients.append(client)
        deploy(client, "attacker", ATTACKER)
        deploy(client, "victim", VICTIM, Environment={"Variables": {"DATABASE_PASSWORD": "x"}})
        outcome = invoke(client, "attacker", {"zip": make_zip({"a": "b"}).hex()})
        # Over plain loopback HTTP, still signed: its own invoke is allowed, the rest is not.
        assert outcome["endpoint"].startswith("http://127.0.0.1:")
        assert outcome["InvokeSelf"] == 202
        assert outcome["ListFunctions"] == "AccessDeniedException"
    finally:
        running.stop()
