"""Resource-based policies on functions: ``AddPermission``, ``GetPolicy``,
``RemovePermission`` at AWS's paths, in AWS's shapes.

A function (or one of its versions or aliases) carries a policy of statements that each
grant one principal one action on it - how one function, a key or a service is allowed to
invoke another. The access middleware evaluates these with the caller's own policy, as IAM
does within one account (either may allow; any explicit deny wins).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from strum.platform import arns
from strum.platform.api._http import answering_errors, function_target, json_response, read_body
from strum.platform.errors import ResourceConflict, ResourceNotFound, model_error
from strum.platform.state import Store

__all__ = ["add_routes", "adding", "removing", "statement_for"]

# botocore's model for AddPermission.
_STATEMENT_ID = re.compile(r"^[a-zA-Z0-9-_.]{1,100}$")
_ACTION = re.compile(r"^(lambda:[*]|lambda:[a-zA-Z]+|[*])$")
_PRINCIPAL = re.compile(r"^[^\s]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


Statements = list[dict[str, Any]]


def adding(statement: dict[str, Any]) -> Callable[[Statements], Statements]:
    """A policy change adding ``statement``; AWS's ``ResourceConflictException`` when its
    Sid is taken (functions' and layer versions' policies alike)."""
    sid = statement["Sid"]

    def add(statements: Statements) -> Statements:
        if any(existing["Sid"] == sid for existing in statements):
            raise ResourceConflict(
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement."
            )
        return [*statements, statement]

    return add


def removing(sid: str) -> Callable[[Statements], Statements]:
    """A policy change removing statement ``sid``; ``ResourceNotFoundException`` if absent."""

    def remove(statements: Statements) -> Statements:
        kept = [statement for statement in statements if statement["Sid"] != sid]
        if len(kept) == len(statements):
            raise ResourceNotFound(f"Statement {sid} is not found in resource policy.")
        return kept

    return remove


def add_routes(app: web.Application, store: Store) -> None:
    """Register the resource-policy routes on ``app``."""
    policy = "/2015-03-31/functions/{name}/policy"

    async def add_permission(request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        body = await read_body(request)
        statement = statement_for(body, store.arn(name, qualifier))
        store.change_resource_policy(
            name, qualifier, adding(statement), revision_id=body.get("RevisionId")
        )
        return json_response({"Statement": json.dumps(statement)}, status=201)

    async def get_policy(request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        found = store.resource_policy(name, qualifier)
        if found is None:
            raise ResourceNotFound("The resource you requested does not exist.")
        statements, revision = found
        document = {"Version": "2012-10-17", "Id": "default", "Statement": json.loads(statements)}
        return json_response({"Policy": json.dumps(document), "RevisionId": revision})

    async def remove_permission(request: web.Request) -> web.StreamResponse:
        name, qualifier = function_target(request)
        revision = request.query.get("RevisionId")
        store.change_resource_policy(
            name, qualifier, removing(request.match_info["sid"]), revision_id=revision
        )
        return web.Response(status=204)

    app.router.add_post(policy, answering_errors(add_permission))
    app.router.add_get(policy, answering_errors(get_policy))
    app.router.add_delete(policy + "/{sid}", answering_errors(remove_permission))


def statement_for(body: dict[str, Any], resource: str) -> dict[str, Any]:
    """The statement ``AddPermission`` adds, built as AWS builds it from its parameters."""
    sid = body.get("StatementId")
    if not isinstance(sid, str) or not _STATEMENT_ID.match(sid):
        raise model_error(
            sid, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)"
        )
    action = body.get("Action")
    if not isinstance(action, str) or not _ACTION.match(action):
        raise model_error(
            action,
            "action",
            "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        )
    principal = body.get("Principal")
    if not isinstance(principal, str) or not _PRINCIPAL.match(principal):
        raise model_error(
            principal, "principal", "Member must satisfy regular expression pattern: [^\\s]+"
        )
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": _principal(principal),
        "Action": action,
        "Resource": resource,
    }
    conditions: dict[str, dict[str, str]] = {}
    for field, operator, key in (
        ("SourceArn", "ArnLike", "AWS:SourceArn"),
        ("SourceAccount", "StringEquals", "AWS:SourceAccount"),
        ("EventSourceToken", "StringEquals", "lambda:EventSourceToken"),
        ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
        ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType"),
    ):
        value = body.get(field)
        if value is None:
            continue
        if field == "SourceAccount" and not (isinstance(value, str) and _ACCOUNT.match(value)):
            raise model_error(
                value, "sourceAccount", "Member must satisfy regular expression pattern: \\d{12}"
            )
        if field == "FunctionUrlAuthType" and value not in ("NONE", "AWS_IAM"):
            raise model_error(
                value, "functionUrlAuthType", "Member must satisfy enum value set: [AWS_IAM, NONE]"
            )
        conditions.setdefault(operator, {})[key] = str(value)
    if conditions:
        statement["Condition"] = conditions
    return statement


def _principal(principal: str) -> str | dict[str, str]:
    # An account id names the account's root; an ARN a user or role; anything else a
    # service ("s3.amazonaws.com"), the way AWS writes AddPermission's statements.
    if principal == "*":
        return "*"
    if _ACCOUNT.match(principal):
        return {"AWS": arns.Scope("", principal).root()}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}
