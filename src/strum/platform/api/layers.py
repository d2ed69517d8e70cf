"""Lambda layers at AWS's paths (``/2018-10-31/layers...``), in AWS's shapes: publishing,
reading, listing and deleting layer versions, and their resource policies.

A layer's content travels like a function's: inline as base64 (``Content.ZipFile``, 50 MB
zipped at most), or staged beforehand through strum's upload route and named as
``S3Bucket``/``S3Key`` (see ``uploads``). It lands in the same content-addressed store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from strum.platform.api import shapes
from strum.platform.api._http import answering_errors, json_response, read_body
from strum.platform.api.permissions import adding, removing
from strum.platform.errors import (
    InvalidParameterValue,
    ResourceNotFound,
    model_error,
)
from strum.platform.state import LayerStore, LayerVersion, StoredCode

__all__ = ["add_routes", "layer_name", "layer_statement", "render_version"]

LAYERS = "/2018-10-31/layers"
VERSIONS = LAYERS + "/{layer}/versions"
VERSION = VERSIONS + "/{version}"

# botocore's LayerName: a name, or the unversioned ARN of a layer.
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,140}$")
_LAYER_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:(?P<name>[a-zA-Z0-9_-]{1,140})$"
)
_STATEMENT_ID = re.compile(r"^([a-zA-Z0-9-_]+)$")
_PRINCIPAL = re.compile(r"^(\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$")
_ORGANIZATION = re.compile(r"^o-[a-z0-9]{10,32}$")
_ARCHITECTURES = ("x86_64", "arm64")


def layer_name(reference: str) -> str:
    """The layer a path's ``{layer}`` names (a name or a layer ARN)."""
    match = _LAYER_ARN.match(reference)
    if match:
        return match["name"]
    if not _NAME.match(reference):
        raise model_error(
            reference,
            "layerName",
            "Member must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:"
            "[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
        )
    return reference


def version_number(text: str) -> int:
    if not text.isdigit():
        raise model_error(text, "versionNumber", "Member must be a number")
    return int(text)


def render_version(
    layers: LayerStore, record: LayerVersion, location: str | None = None
) -> dict[str, Any]:
    """A layer version as GetLayerVersion answers it (``location``: the content link),
    or as a ``LayerVersionsListItem`` without it."""
    rendered: dict[str, Any] = {}
    if location is not None:
        rendered["Content"] = {
            "Location": location,
            "CodeSha256": record.code_sha256,
            "CodeSize": record.code_size,
        }
        rendered["LayerArn"] = layers.arn(record.name)
    rendered.update(
        {
            "LayerVersionArn": layers.arn(record.name, record.version),
            "Version": record.version,
            "Description": record.description,
            "CreatedDate": record.created,
        }
    )
    if record.runtimes:
        rendered["CompatibleRuntimes"] = list(record.runtimes)
    if record.license_info is not None:
        rendered["LicenseInfo"] = record.license_info
    if record.architectures:
        rendered["CompatibleArchitectures"] = list(record.architectures)
    return rendered


def add_routes(
    app: web.Application,
    layers: LayerStore,
    *,
    package: Callable[[dict[str, Any]], StoredCode],
    location: Callable[[str], str],
) -> None:
    """Register the layer routes on ``app``. ``package(content)`` stores a request's
    ``Content`` (as CreateFunction's ``Code``); ``location(sha)`` is a download link."""

    def link(record: LayerVersion) -> str:
        return location(record.code_sha)

    async def publish(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        body = await read_body(request)
        content = body.get("Content")
        if not isinstance(content, dict):
            raise InvalidParameterValue("Content is required: give ZipFile, or S3Bucket and S3Key")
        description = _text(body.get("Description", ""), "description", 256)
        license_info = body.get("LicenseInfo")
        if license_info is not None:
            _text(license_info, "licenseInfo", 512)
        runtimes = _runtimes(body.get("CompatibleRuntimes"))
        architectures = _architectures(body.get("CompatibleArchitectures"))
        stored = package(content)
        record = layers.publish(
            name,
            stored,
            unzipped_size=layers.store.code.unzipped_size(stored.sha_hex),
            description=description,
            license_info=license_info,
            runtimes=runtimes,
            architectures=architectures,
        )
        return json_response(render_version(layers, record, link(record)), 201)

    async def get_version(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        record = layers.version(name, version_number(request.match_info["version"]))
        return json_response(render_version(layers, record, link(record)))

    async def list_layers(request: web.Request) -> web.StreamResponse:
        if request.query.get("find") == "LayerVersion":
            arn = request.query.get("Arn", "")
            try:
                record = layers.resolve(arn)
            except InvalidParameterValue:
                raise ResourceNotFound("The resource you requested does not exist.") from None
            return json_response(render_version(layers, record, link(record)))
        runtime, architecture = _filters(request)
        found = layers.layers(runtime=runtime, architecture=architecture)
        items, marker = shapes.page(found, request.query.get("Marker"), _max(request))
        answer: dict[str, Any] = {
            "Layers": [
                {
                    "LayerName": record.name,
                    "LayerArn": layers.arn(record.name),
                    "LatestMatchingVersion": render_version(layers, record),
                }
                for record in items
            ]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def list_versions(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        runtime, architecture = _filters(request)
        found = layers.versions(name, runtime=runtime, architecture=architecture)
        items, marker = shapes.page(found, request.query.get("Marker"), _max(request))
        answer: dict[str, Any] = {
            "LayerVersions": [render_version(layers, record) for record in items]
        }
        if marker:
            answer["NextMarker"] = marker
        return json_response(answer)

    async def delete_version(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        layers.delete(name, version_number(request.match_info["version"]))
        layers.store.code.collect(layers.store.referenced_code())
        return web.Response(status=204)

    async def add_permission(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        number = version_number(request.match_info["version"])
        body = await read_body(request)
        statement = layer_statement(body, layers.arn(name, number))
        revision = layers.change_policy(
            name, number, adding(statement), revision_id=body.get("RevisionId")
        )
        return json_response({"Statement": json.dumps(statement), "RevisionId": revision}, 201)

    async def get_policy(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        statements, revision = layers.policy(name, version_number(request.match_info["version"]))
        if not statements:
            raise ResourceNotFound("No policy is associated with the given resource.")
        document = {"Version": "2012-10-17", "Id": "default", "Statement": statements}
        return json_response({"Policy": json.dumps(document), "RevisionId": revision})

    async def remove_permission(request: web.Request) -> web.StreamResponse:
        name = layer_name(request.match_info["layer"])
        number = version_number(request.match_info["version"])
        revision = request.query.get("RevisionId")
        layers.change_policy(
            name, number, removing(request.match_info["sid"]), revision_id=revision
        )
        return web.Response(status=204)

    for method, path, handler in (
        ("POST", VERSIONS, publish),
        ("GET", VERSIONS, list_versions),
        ("GET", VERSION, get_version),
        ("DELETE", VERSION, delete_version),
        ("GET", LAYERS, list_layers),
        ("POST", VERSION + "/policy", add_permission),
        ("GET", VERSION + "/policy", get_policy),
        ("DELETE", VERSION + "/policy/{sid}", remove_permission),
    ):
        app.router.add_route(method, path, answering_errors(handler))


def layer_statement(body: dict[str, Any], resource: str) -> dict[str, Any]:
    """The statement AddLayerVersionPermission adds, as AWS builds it."""
    sid = body.get("StatementId")
    if not isinstance(sid, str) or not 1 <= len(sid) <= 100 or not _STATEMENT_ID.match(sid):
        raise model_error(
            sid, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        )
    action = body.get("Action")
    if action != "lambda:GetLayerVersion":
        raise model_error(
            action,
            "action",
            "Member must satisfy regular expression pattern: lambda:GetLayerVersion",
        )
    principal = body.get("Principal")
    if not isinstance(principal, str) or not _PRINCIPAL.match(principal):
        raise model_error(
            principal,
            "principal",
            "Member must satisfy regular expression pattern: "
            "\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root",
        )
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*"
        if principal == "*"
        else {
            "AWS": principal if principal.startswith("arn:") else f"arn:aws:iam::{principal}:root"
        },
        "Action": action,
        "Resource": resource,
    }
    organization = body.get("OrganizationId")
    if organization is not None:
        if not isinstance(organization, str) or not _ORGANIZATION.match(organization):
            raise model_error(
                organization,
                "organizationId",
                "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}",
            )
        if principal != "*":
            raise InvalidParameterValue(
                "OrganizationId can only be specified with the principal '*'"
            )
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": organization}}
    return statement


def _text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise model_error(value, field, f"Member must have length less than or equal to {limit}")
    return value


def _runtimes(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidParameterValue("CompatibleRuntimes must be a list of runtime identifiers")
    if len(value) > 15:
        raise model_error(
            value, "compatibleRuntimes", "Member must have length less than or equal to 15"
        )
    return tuple(value)


def _architectures(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) > 2
        or not all(item in _ARCHITECTURES for item in value)
    ):
        raise model_error(
            value,
            "compatibleArchitectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: "
            "[x86_64, arm64]] and have length less than or equal to 2",
        )
    return tuple(value)


def _filters(request: web.Request) -> tuple[str | None, str | None]:
    architecture = request.query.get("CompatibleArchitecture") or None
    if architecture is not None and architecture not in _ARCHITECTURES:
        raise model_error(
            architecture,
            "compatibleArchitecture",
            "Member must satisfy enum value set: [x86_64, arm64]",
        )
    return request.query.get("CompatibleRuntime") or None, architecture


def _max(request: web.Request) -> str | None:
    value = request.query.get("MaxItems")
    if value is not None and (not value.isdigit() or not 1 <= int(value) <= 50):
        raise model_error(value, "maxItems", "Member must have value less than or equal to 50")
    return value
