"""The platform's errors: an HTTP status, AWS's error type and a message - and no HTTP.

The parts below the API (``state``, ``invoke``, ``engine``) raise these; only ``api`` and
``urls`` turn one into a response, through ``strum.platform.api.error_response``, in the
wire shape boto3 parses into its usual exceptions: a JSON body ``{"Type": "User",
"message": ...}`` and the error code in the ``x-amzn-ErrorType`` header (botocore reads the
code from that header, so the exception class a client sees - ``ResourceNotFoundException``,
... - is ``error_type`` here). The tree::

    PlatformError                   any error the control or Invoke API answers with
    ├── ResourceNotFound            404  no such function, version, alias or URL config
    ├── ResourceConflict            409  it exists already / it is still in use
    ├── InvalidParameterValue       400  a value AWS would refuse
    ├── ValidationFailed            400  a value breaking the API model (name patterns)
    ├── InvalidRequestContent       400  an Invoke payload that is not JSON
    ├── AccessDenied                403  a call the caller's policies do not allow
    ├── SignatureRejected           403  not signed, or not by a key of this platform
    │                               (400 IncompleteSignature for a malformed signature)
    ├── PreconditionFailed          412  a stale RevisionId
    ├── TooManyRequests             429  throttled, with AWS's ``Reason``
    └── RequestTooLarge             413  payload over the sync / async limit
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "InvalidParameterValue",
    "InvalidRequestContent",
    "PlatformError",
    "PreconditionFailed",
    "RequestTooLarge",
    "ResourceConflict",
    "ResourceNotFound",
    "SignatureRejected",
    "TooManyRequests",
    "ValidationFailed",
    "model_error",
]


class PlatformError(Exception):
    """An error the platform answers in AWS's shape: ``status`` + ``error_type`` + message."""

    status = 500
    error_type = "ServiceException"
    # AWS spells the message key "Message" for a few errors (the service model says which).
    message_key = "message"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, object]:
        """The JSON document AWS answers this error with."""
        return {"Type": "User", self.message_key: self.message}


class ResourceNotFound(PlatformError):
    """404: no such function, version, alias or URL config."""

    status = 404
    error_type = "ResourceNotFoundException"
    message_key = "Message"


class ResourceConflict(PlatformError):
    """409: it exists already, or it is still in use."""

    status = 409
    error_type = "ResourceConflictException"


class InvalidParameterValue(PlatformError):
    """400: a value AWS would refuse."""

    status = 400
    error_type = "InvalidParameterValueException"


class ValidationFailed(PlatformError):
    """400: a value breaking the API model (name patterns, enums)."""

    status = 400
    error_type = "ValidationException"


class InvalidRequestContent(PlatformError):
    """400: a request body (or an Invoke payload) that is not the JSON it must be."""

    status = 400
    error_type = "InvalidRequestContentException"


class AccessDenied(PlatformError):
    """403: a call the caller may not make (its policies do not allow it)."""

    status = 403
    error_type = "AccessDeniedException"


class SignatureRejected(PlatformError):
    """A request not signed, or not signed right, by a key this platform issued.

    AWS answers these at its front end with their own codes: ``MissingAuthenticationToken
    Exception``, ``UnrecognizedClientException``, ``InvalidSignatureException``,
    ``ExpiredTokenException`` (403) and ``IncompleteSignatureException`` (400).
    """

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type


class PreconditionFailed(PlatformError):
    """412: a stale ``RevisionId``."""

    status = 412
    error_type = "PreconditionFailedException"


class RequestTooLarge(PlatformError):
    """413: a payload over the synchronous or asynchronous limit."""

    status = 413
    error_type = "RequestTooLargeException"


class RequestEntityTooLarge(PlatformError):
    """413: a control-plane request over Lambda's size limit (a package sent inline)."""

    status = 413
    error_type = "RequestEntityTooLargeException"


class TooManyRequests(PlatformError):
    """429: no instance may take the request now (AWS's ``TooManyRequestsException``).

    ``reason`` is AWS's ``Reason`` field, e.g.
    ``ReservedFunctionConcurrentInvocationLimitExceeded`` or
    ``ConcurrentInvocationLimitExceeded``.
    """

    status = 429
    error_type = "TooManyRequestsException"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, object]:
        return {**super().body(), "Reason": self.reason}


def model_error(value: object, field: str, constraint: str) -> ValidationFailed:
    """AWS's wording for a value breaking the API model."""
    return ValidationFailed(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )
