"""The context object passed to handlers, attribute-compatible with AWS's Python runtime.

Names, types and ``None``-ness follow ``awslambdaric`` (the runtime behind AWS's managed
Python runtimes), so code written against ``context.*`` on AWS runs unchanged on strum:
``memory_limit_in_mb`` is the *string* from ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``,
``identity`` is always present (its fields ``None`` when the invocation carried no Cognito
identity) and ``client_context`` is ``None`` unless the caller sent one.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class FunctionInfo:
    """The per-process facts about the function, read once from its environment.

    AWS sets these variables before the runtime starts and they cannot change during the
    process's life, so reading them once (instead of six ``os.environ`` lookups per
    invocation, as ``awslambdaric`` does) is both correct and cheaper.
    """

    __slots__ = (
        "function_name",
        "function_version",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
    )

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.function_name = environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = environ.get("AWS_LAMBDA_LOG_STREAM_NAME")


class CognitoIdentity:
    """The Amazon Cognito identity that invoked the function through the AWS Mobile SDK.

    Built from the ``Lambda-Runtime-Cognito-Identity`` header's ``cognitoIdentityId`` and
    ``cognitoIdentityPoolId``; both are ``None`` for every other kind of invocation.
    """

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data or {}
        self.cognito_identity_id: str | None = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id: str | None = data.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity(cognito_identity_id={self.cognito_identity_id!r}, "
            f"cognito_identity_pool_id={self.cognito_identity_pool_id!r})"
        )


class Client:
    """The mobile application that invoked the function (``client_context.client``).

    Fields missing from the client context are ``None``, as in ``awslambdaric``.
    """

    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.installation_id: Any = data.get("installation_id")
        self.app_title: Any = data.get("app_title")
        self.app_version_name: Any = data.get("app_version_name")
        self.app_version_code: Any = data.get("app_version_code")
        self.app_package_name: Any = data.get("app_package_name")

    def __repr__(self) -> str:
        return f"Client(installation_id={self.installation_id!r}, app_title={self.app_title!r})"


class ClientContext:
    """The caller-supplied client context (the ``Lambda-Runtime-Client-Context`` JSON).

    ``client`` is a :class:`Client` when the JSON has a ``client`` object; ``custom`` and
    ``env`` are the JSON's ``custom`` and ``env`` values as given (usually dicts), or
    ``None`` when absent.
    """

    __slots__ = ("client", "custom", "env")

    def __init__(self, data: Mapping[str, Any]) -> None:
        client = data.get("client")
        self.client: Client | None = Client(client) if isinstance(client, dict) else None
        self.custom: Any = data.get("custom")
        self.env: Any = data.get("env")

    def __repr__(self) -> str:
        return f"ClientContext(client={self.client!r}, custom={self.custom!r}, env={self.env!r})"


class LambdaContext:
    """What a handler receives as ``context``: this invocation and the function it runs in.

    Attribute names are AWS's. ``get_remaining_time_in_millis()`` counts down, in wall-clock
    milliseconds, to the deadline the Runtime API sent with the event
    (``Lambda-Runtime-Deadline-Ms``, Unix epoch milliseconds), never below zero.
    ``log(message)`` writes to the function's log without a newline, as on AWS.
    """

    __slots__ = (
        "_deadline_ms",
        "aws_request_id",
        "client_context",
        "function_name",
        "function_version",
        "identity",
        "invoked_function_arn",
        "log_group_name",
        "log_stream_name",
        "memory_limit_in_mb",
        "tenant_id",
    )

    def __init__(
        self,
        *,
        aws_request_id: str,
        deadline_ms: int,
        invoked_function_arn: str | None,
        function: FunctionInfo,
        client_context: ClientContext | None = None,
        identity: CognitoIdentity | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = function.function_name
        self.function_version = function.function_version
        self.memory_limit_in_mb = function.memory_limit_in_mb
        self.log_group_name = function.log_group_name
        self.log_stream_name = function.log_stream_name
        self.client_context = client_context
        self.identity = identity if identity is not None else CognitoIdentity()
        self.tenant_id = tenant_id
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out (0 once it has passed)."""
        return max(self._deadline_ms - int(time.time() * 1000), 0)

    def log(self, message: object) -> None:
        """Write ``message`` to the function's log (standard output), as AWS's context does."""
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id!r}, "
            f"function_name={self.function_name!r}, "
            f"invoked_function_arn={self.invoked_function_arn!r})"
        )
