"""The Lambda API's errors, in the wire shape boto3 parses into its usual exceptions.

AWS answers an error with a JSON body ``{"Type": "User", "message": ...}`` and the error
code in the ``x-amzn-ErrorType`` header; botocore reads the code from that header, so the
exception class a client sees (``ResourceNotFoundException``, ...) is ``error_type`` here.
The tree::

    ApiError                        any error the control or Invoke API answers with
    ├── ResourceNotFound            404  no such function, version, alias or URL config
    ├── ResourceConflict            409  it exists already / it is still in use
    ├── InvalidParameterValue       400  a value AWS would refuse
    ├── ValidationFailed            400  a value breaking the API model (name patterns)
    ├── InvalidRequestContent       400  an Invoke payload that is not JSON
    ├── PreconditionFailed          412  a stale RevisionId
    ├── TooManyRequests             429  throttled, with AWS's ``Reason``
    └── RequestTooLarge             413  payload over the sync / async limit
"""

from __future__ import annotations

import json

from aiohttp import web


class ApiError(Exception):
    """An error the platform answers in AWS's shape: ``status`` + ``error_type`` + message."""

    status = 500
    error_type = "ServiceException"
    # AWS spells the message key "Message" for a few errors (the service model says which).
    message_key = "message"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, object]:
        return {"Type": "User", self.message_key: self.message}

    def response(self, request_id: str | None = None) -> web.Response:
        headers = {"x-amzn-ErrorType": self.error_type}
        if request_id:
            headers["x-amzn-RequestId"] = request_id
        return web.Response(
            status=self.status,
            body=json.dumps(self.body()).encode(),
            content_type="application/json",
            headers=headers,
        )


class ResourceNotFound(ApiError):
    status = 404
    error_type = "ResourceNotFoundException"
    message_key = "Message"


class ResourceConflict(ApiError):
    status = 409
    error_type = "ResourceConflictException"


class InvalidParameterValue(ApiError):
    status = 400
    error_type = "InvalidParameterValueException"


class ValidationFailed(ApiError):
    status = 400
    error_type = "ValidationException"


class InvalidRequestContent(ApiError):
    status = 400
    error_type = "InvalidRequestContentException"


class PreconditionFailed(ApiError):
    status = 412
    error_type = "PreconditionFailedException"


class RequestTooLarge(ApiError):
    status = 413
    error_type = "RequestTooLargeException"


class TooManyRequests(ApiError):
    status = 429
    error_type = "TooManyRequestsException"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, object]:
        return {**super().body(), "Reason": self.reason}
