"""strum's identity routes: access keys (``strum platform keys``) and the audit log.

``POST /strum/v1/keys`` issues a named key with a policy and answers its secret - once;
``GET /strum/v1/keys`` lists them without secrets; ``DELETE /strum/v1/keys/{key}`` revokes
one (by name or id), in effect from the next request; ``GET /strum/v1/audit?since=&limit=``
reads the audit log. Authorised like every route (``strum:CreateAccessKey``, ...): the
owner key may, a named key only if its policy says so.
"""

from __future__ import annotations

import json

from aiohttp import web

from strum.platform.api._http import answering_errors, json_response, read_body
from strum.platform.errors import InvalidParameterValue
from strum.platform.identity import KeyRing
from strum.platform.state import AuditLog

__all__ = ["add_routes"]


def add_routes(app: web.Application, keys: KeyRing, audit: AuditLog) -> None:
    """Register the key and audit routes on ``app``."""

    async def create(request: web.Request) -> web.StreamResponse:
        body = await read_body(request)
        name, policy = body.get("Name"), body.get("Policy")
        if not isinstance(name, str) or not isinstance(policy, str | dict):
            raise InvalidParameterValue(
                'give {"Name": "<key name>", "Policy": <an IAM policy document>}'
            )
        document = policy if isinstance(policy, str) else json.dumps(policy)
        key = keys.create(name, document)
        return json_response({**key.public(), "SecretAccessKey": key.secret}, status=201)

    async def listing(request: web.Request) -> web.StreamResponse:
        return json_response({"Keys": [key.public() for key in keys]})

    async def revoke(request: web.Request) -> web.StreamResponse:
        return json_response(keys.revoke(request.match_info["key"]).public())

    async def audit_log(request: web.Request) -> web.StreamResponse:
        try:
            since = float(request.query["since"]) if "since" in request.query else None
            limit = min(int(request.query.get("limit", "1000")), 10000)
        except ValueError:
            raise InvalidParameterValue("since must be epoch seconds and limit a number") from None
        entries = audit.query(since=since, limit=limit)
        return json_response({"Entries": [entry.public() for entry in entries]})

    app.router.add_post("/strum/v1/keys", answering_errors(create))
    app.router.add_get("/strum/v1/keys", answering_errors(listing))
    app.router.add_delete("/strum/v1/keys/{key}", answering_errors(revoke))
    app.router.add_get("/strum/v1/audit", answering_errors(audit_log))
