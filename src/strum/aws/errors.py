"""What goes wrong talking to AWS, as strum errors: what happened, why, and what to do.

The tree (all under ``strum.errors.StrumError``)::

    AwsError                 an AWS call failed; ``code`` is AWS's error code
    ├── AwsCredentialsError  no usable credentials (profile, env, SSO) or they expired
    ├── AwsPermissionError   the credentials may not make the call
    └── AwsUnreachable       the endpoint cannot be reached

A deploy, rollback or undeploy that cannot go ahead as asked raises the target-neutral
``strum.deploy.DeployError`` (exit code 7), as the local target does.

Only ``strum.aws.client`` turns botocore's exceptions into these; nothing else in strum
sees a botocore exception.
"""

from __future__ import annotations

from typing import Any

from strum.errors import StrumError


class AwsError(StrumError):
    """An AWS API call failed. ``code`` is AWS's error code (``""`` when there is none)."""

    exit_code = 8

    def __init__(self, message: str, code: str = "", operation: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.operation = operation


class AwsCredentialsError(AwsError):
    """No credentials could be found, or the ones found are expired or invalid."""


class AwsPermissionError(AwsError):
    """The caller's credentials are not allowed to make the call."""


class AwsUnreachable(AwsError):
    """The AWS endpoint (or the one ``AWS_ENDPOINT_URL`` names) did not answer."""


_CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
    }
)
_PERMISSION_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException"}
)


def translate(exc: Exception, service: str, operation: str, profile: str | None) -> AwsError:
    """The strum error for a botocore exception raised by ``service.operation``."""
    from botocore import exceptions as bx

    where = f"{service} {operation}"
    login = (
        f"`aws sso login --profile {profile}` (or `aws configure --profile {profile}`)"
        if profile
        else "`aws configure`, `aws sso login`, or set AWS_PROFILE / AWS_ACCESS_KEY_ID"
    )
    if isinstance(exc, bx.ProfileNotFound):
        name = exc.kwargs.get("profile") or profile
        origin = "profile = in the stage config" if profile else "AWS_PROFILE"
        return AwsCredentialsError(
            f"the AWS profile {name!r} ({origin}) does not exist in ~/.aws/config or "
            f"~/.aws/credentials; create it with `aws configure --profile {name}` or fix the name",
            operation=where,
        )
    credential_errors: tuple[type[Exception], ...] = (
        bx.NoCredentialsError,
        bx.PartialCredentialsError,
        bx.SSOError,
        bx.TokenRetrievalError,
        bx.CredentialRetrievalError,
    )
    if isinstance(exc, credential_errors):
        return AwsCredentialsError(
            f"no usable AWS credentials for {where}: {exc}; log in with {login}",
            operation=where,
        )
    if isinstance(exc, bx.NoRegionError):
        return AwsError(
            f'{where} needs a region: set region = "eu-west-1" (for example) in the stage '
            "config, or AWS_DEFAULT_REGION",
            operation=where,
        )
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError)):
        return AwsUnreachable(
            f"cannot reach AWS for {where}: {exc}; check the network (or AWS_ENDPOINT_URL, "
            "if set) and run the command again",
            operation=where,
        )
    if isinstance(exc, bx.ClientError):
        error: dict[str, Any] = exc.response.get("Error") or {}
        code = str(error.get("Code") or "")
        message = str(error.get("Message") or exc)
        if code in _CREDENTIAL_CODES:
            return AwsCredentialsError(
                f"AWS refused the credentials for {where} ({code}: {message}); log in again "
                f"with {login}",
                code,
                where,
            )
        if code in _PERMISSION_CODES:
            return AwsPermissionError(
                f"the AWS credentials in use may not call {where} ({message}); grant that "
                "action to the user or role deploying (or deploy with another profile)",
                code,
                where,
            )
        return AwsError(f"{where} failed: {code}: {message}", code, where)
    if isinstance(exc, bx.BotoCoreError):
        return AwsError(f"{where} failed: {exc}", operation=where)
    raise exc
