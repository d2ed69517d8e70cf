"""``@task``: run a function asynchronously in the deployed function, Celery-free.

``task.delay(*args, **kwargs)`` sends ``{"strum": "task", "task": "module:name", ...}`` as
an asynchronous (``Event``) invocation of the function it runs in, on the same code version,
and the entry router calls the task there. Outside a deployed function it runs inline, so
code and tests behave the same without any infrastructure. Arguments are checked (JSON,
under Lambda's async payload limit) before anything is sent, at the call site.

Where the invocation goes: on strum's platform (``$STRUM_PLATFORM_API`` set by the
platform) its Lambda Invoke API over plain HTTP; on AWS, boto3 - which the AWS runtime
provides and which is imported only when ``.delay`` is first called, never at import.
"""

from __future__ import annotations

import os

from strum.errors import StrumError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# Lambda's limit for an asynchronous invocation payload.
MAX_ASYNC_PAYLOAD = 1024 * 1024


class TaskError(StrumError):
    """A task could not be queued (bad arguments, payload too large, invoke failed)."""


class Task:
    """A function that can also run asynchronously: ``fn(...)`` now, ``fn.delay(...)`` later.

    ``name`` is the import path ("module:qualname") the entry router uses to find the task
    again in the deployed function; only functions wrapped by ``@task`` can be called that
    way, so an invocation payload cannot name arbitrary code.
    """

    _strum_task = True

    def __init__(self, fn: Callable[..., Any]) -> None:
        # functools.update_wrapper by hand: functools would add a millisecond to imports.
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
            if hasattr(fn, attribute):
                setattr(self, attribute, getattr(fn, attribute))
        self.__wrapped__ = fn
        self.fn = fn
        self.name = f"{fn.__module__}:{fn.__qualname__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<task {self.name}>"

    def delay(self, *args: Any, **kwargs: Any) -> str | None:
        """Queue the task; return the invocation's request id (None when run inline).

        Raises ``TaskError`` if the arguments are not JSON-serialisable or the payload is
        over Lambda's 1 MB asynchronous limit - before anything is sent.
        """
        payload = encode_task_payload(self.name, args, kwargs)
        function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if not function or "_HANDLER" not in os.environ:
            self.fn(*args, **kwargs)  # not deployed: run it now
            return None
        qualifier = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        platform = os.environ.get("STRUM_PLATFORM_API")
        if platform:
            return _invoke_platform(platform, function, qualifier, payload)
        return _invoke_aws(function, qualifier, payload)


def task(fn: Callable[..., Any]) -> Task:
    """Decorate a function so that ``fn.delay(*args, **kwargs)`` runs it asynchronously.

    Inside a deployed function ``delay`` invokes the same function (same code version)
    with ``InvocationType=Event``; outside one it runs ``fn`` inline. Arguments must be
    JSON-serialisable and under 1 MB once encoded.
    """
    if not callable(fn):
        raise TypeError("@task decorates a function; use it without arguments")
    return Task(fn)


def encode_task_payload(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """The invocation payload for a task call, validated against Lambda's async limits."""
    import json

    try:
        payload = json.dumps(
            {"strum": "task", "task": name, "args": list(args), "kwargs": kwargs},
            separators=(",", ":"),
            allow_nan=False,
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise TaskError(
            f"the arguments of task {name} cannot be sent: {exc}. Task arguments must be "
            "JSON-serialisable (str, int, float, bool, None, lists and dicts of them); "
            "pass ids or keys, not objects"
        ) from None
    if len(payload) > MAX_ASYNC_PAYLOAD:
        raise TaskError(
            f"the arguments of task {name} are {len(payload)} bytes once encoded, over "
            f"Lambda's {MAX_ASYNC_PAYLOAD} byte limit for asynchronous invocations; store "
            "the data (S3, a database) and pass its key instead"
        )
    return payload


def _invoke_platform(api: str, function: str, qualifier: str, payload: bytes) -> str | None:
    """Queue the task through the platform's Invoke API, signed with the instance's own
    credentials (``AWS_ACCESS_KEY_ID``... the platform gives each instance), as boto3
    would sign it - without boto3's import cost."""
    import http.client
    from urllib.parse import quote, urlsplit

    url = urlsplit(api)
    host, port = url.hostname or "127.0.0.1", url.port or (443 if url.scheme == "https" else 80)
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        import ssl

        context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE"))
        connection = http.client.HTTPSConnection(host, port, timeout=30, context=context)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=30)
    path = (
        f"/2015-03-31/functions/{quote(function, safe='')}/invocations"
        f"?Qualifier={quote(qualifier, safe='')}"
    )
    headers = {"X-Amz-Invocation-Type": "Event", "Content-Type": "application/json"}
    key = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        from strum.runtime.sigv4 import sign

        headers = sign(
            method="POST",
            host=url.netloc,
            raw_path=path,
            body=payload,
            access_key=key,
            secret=secret,
            region=os.environ.get("AWS_REGION", "us-east-1"),
            session_token=os.environ.get("AWS_SESSION_TOKEN"),
            headers=headers,
        )
    try:
        connection.request("POST", path, body=payload, headers=headers)
        response = connection.getresponse()
        body = response.read()
    except OSError as exc:
        raise TaskError(
            f"could not reach strum's platform at {api} to queue a task: {exc}"
        ) from exc
    finally:
        connection.close()
    if response.status != 202:
        raise TaskError(
            f"strum's platform refused to queue the task (HTTP {response.status}): "
            f"{body.decode('utf-8', 'replace')[:500]}"
        )
    return response.getheader("x-amzn-RequestId")


def _invoke_aws(function: str, qualifier: str, payload: bytes) -> str | None:
    import boto3  # provided by AWS's runtime; imported on first .delay() only

    global _lambda_client
    if _lambda_client is None:
        _lambda_client = boto3.client("lambda")
    client = _lambda_client
    response = client.invoke(
        FunctionName=function, Qualifier=qualifier, InvocationType="Event", Payload=payload
    )
    request_id: str | None = response.get("ResponseMetadata", {}).get("RequestId")
    return request_id


_lambda_client: Any = None
