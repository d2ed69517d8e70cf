"""The control API's request checks and response shapes, as pure functions over dicts.

Requests are checked the way AWS checks them: values that break the API model (name
patterns, enums) answer ``ValidationException`` in AWS's "1 validation error detected"
wording, values Lambda refuses (memory, timeout, 4 KB of environment, unsupported
runtimes...) answer ``InvalidParameterValueException``. Responses are rendered from the
store's records with the field names of botocore's service model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from strum.platform import arns
from strum.platform.errors import (
    AccessDenied,
    CodeSigningConfigNotFound,
    InvalidParameterValue,
    model_error,
)
from strum.platform.identity import Policy, PolicyError
from strum.platform.invoke.durable_updates import durable_config
from strum.platform.state import AliasRecord, FunctionRecord, Store, code_sha256
from strum.platform.volumes import file_system_configs

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ALIAS_PATTERN = re.compile(r"^(?!\d+$)[a-zA-Z0-9_-]{1,128}$")
VERSION_PATTERN = re.compile(r"^(\$LATEST|\d+)$")
ROLE_PATTERN = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
ENV_NAME_PATTERN = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")

# The host interpreter runs every python3.x function (DESIGN.md: the local target always
# runs on the host), so any runtime AWS still accepts for new functions is accepted.
PYTHON_RUNTIMES = frozenset(f"python3.{minor}" for minor in range(9, 16))
CUSTOM_RUNTIMES = frozenset({"provided", "provided.al2", "provided.al2023"})
DEPRECATED_RUNTIMES = frozenset({"python2.7", "python3.6", "python3.7", "python3.8"})
RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
        "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip
ENVIRONMENT_LIMIT = 4096
MIN_MEMORY, MAX_MEMORY = 128, 10240
MAX_TIMEOUT = 900
URL_METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "PATCH", "DELETE", "*"})

# Fields a configuration carries; UpdateFunctionConfiguration may change all of them.
_DEFAULTS: dict[str, Any] = {
    "Description": "",
    "Timeout": 3,
    "MemorySize": 128,
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
    "TracingConfig": {"Mode": "PassThrough"},
}


def check_function_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise model_error(
            name,
            "functionName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ "
            "(and have length less than or equal to 64)",
        )
    return name


def check_alias_name(name: object) -> str:
    if not isinstance(name, str) or not ALIAS_PATTERN.match(name):
        raise model_error(
            name,
            "name",
            "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
        )
    return name


def check_version(version: object, field: str = "functionVersion") -> str:
    if not isinstance(version, str) or not VERSION_PATTERN.match(version):
        raise model_error(
            version, field, "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)"
        )
    return version


def function_config(
    body: dict[str, Any],
    current: dict[str, Any] | None = None,
    *,
    region: str = "us-east-1",
    account: str = "000000000000",
) -> dict[str, Any]:
    """The stored configuration after applying ``body`` (a Create or an Update request).

    ``current`` is None for CreateFunction: defaults fill what the request leaves out and
    Runtime, Role and Handler are required. ``region`` and ``account`` are the platform's:
    a ``FileSystemConfigs`` ARN must name one of its own volumes.
    """
    config = dict(_DEFAULTS) if current is None else dict(current)
    if current is None:
        if body.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValue(
                "strum's platform runs .zip packages only (PackageType Zip); container "
                "images are not supported"
            )
        for required in ("Role", "Runtime", "Handler"):
            if not body.get(required):
                raise InvalidParameterValue(
                    f"{required} is required for a function with PackageType Zip"
                )
    if "Role" in body:
        role = body["Role"]
        if not isinstance(role, str) or not ROLE_PATTERN.match(role):
            raise model_error(
                role,
                "role",
                "Member must satisfy regular expression pattern: "
                "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
            )
        config["Role"] = role
    if "Runtime" in body:
        config["Runtime"] = _runtime(body["Runtime"])
    if "Handler" in body:
        handler = body["Handler"]
        if not isinstance(handler, str) or not handler or len(handler) > 128:
            raise InvalidParameterValue("Handler must be 1 to 128 characters long")
        if any(character.isspace() for character in handler):
            raise model_error(
                handler, "handler", "Member must satisfy regular expression pattern: [^\\s]+"
            )
        config["Handler"] = handler
    if "Description" in body:
        description = body["Description"]
        if not isinstance(description, str) or len(description) > 256:
            raise model_error(
                description, "description", "Member must have length less than or equal to 256"
            )
        config["Description"] = description
    if "Timeout" in body:
        config["Timeout"] = bounded_int(body["Timeout"], "Timeout", 1, MAX_TIMEOUT)
    if "MemorySize" in body:
        config["MemorySize"] = bounded_int(body["MemorySize"], "MemorySize", MIN_MEMORY, MAX_MEMORY)
    if "EphemeralStorage" in body:
        size = (body["EphemeralStorage"] or {}).get("Size")
        config["EphemeralStorage"] = {
            "Size": bounded_int(size, "EphemeralStorage.Size", 512, 10240)
        }
    if "Environment" in body:
        variables = _environment((body["Environment"] or {}).get("Variables") or {})
        config["Environment"] = {"Variables": variables}
    if "Architectures" in body:
        config["Architectures"] = _architectures(body["Architectures"])
    if "TracingConfig" in body:
        mode = (body["TracingConfig"] or {}).get("Mode", "PassThrough")
        if mode not in ("Active", "PassThrough"):
            raise model_error(
                mode,
                "tracingConfig.mode",
                "Member must satisfy enum value set: [Active, PassThrough]",
            )
        config["TracingConfig"] = {"Mode": mode}
    if "FileSystemConfigs" in body:
        systems = file_system_configs(body["FileSystemConfigs"], region, account)
        if systems:
            config["FileSystemConfigs"] = systems
        else:
            config.pop("FileSystemConfigs", None)
    if "StrumPermissions" in body:
        config["StrumPermissions"] = _permissions(body["StrumPermissions"])
    if "DurableConfig" in body:
        config["DurableConfig"] = durable_config(body["DurableConfig"])
    # Kept as given: asynchronous invocation reads the dead-letter target.
    for passive in ("DeadLetterConfig", "KMSKeyArn", "LoggingConfig"):
        if passive in body:
            config[passive] = body[passive]
    return config


def check_references(body: dict[str, Any], scope: arns.Scope) -> None:
    """Refuse what a Create/UpdateFunctionConfiguration request names outside the caller's
    reach: a role of another account (AWS: 403 "Cross-account pass role is not allowed.")
    and a code signing config, which the platform has none of."""
    role = body.get("Role")
    if isinstance(role, str):
        parsed = arns.parse(role)
        if parsed is not None and parsed.account != scope.account:
            raise AccessDenied("Cross-account pass role is not allowed.")
    signing = body.get("CodeSigningConfigArn")
    if signing:
        raise CodeSigningConfigNotFound(
            f"Code signing configuration not found: {signing}. The platform has no code "
            "signing configs; leave CodeSigningConfigArn out"
        )


def _permissions(value: object) -> dict[str, Any]:
    """strum's extension field: what the function may reach beyond its own code.

    ``{"Network": true | false | ["host:port", ...], "Files": ["/abs/path", ...],
    "Policy": {IAM policy document}}``; a function without it gets neither network nor
    extra files, and its instances' credentials may only invoke the function itself.
    """
    if not isinstance(value, dict) or set(value) - {"Network", "Files", "Policy"}:
        raise InvalidParameterValue(
            'StrumPermissions must be {"Network": bool or ["host:port", ...], "Files": [paths],'
            ' "Policy": {an IAM policy document}}'
        )
    network = value.get("Network", False)
    if not isinstance(network, bool) and not (
        isinstance(network, list) and all(isinstance(item, str) for item in network)
    ):
        raise InvalidParameterValue(
            f"StrumPermissions.Network must be true, false or a list of host:port, not {network!r}"
        )
    files = value.get("Files", [])
    if not isinstance(files, list) or not all(
        isinstance(path, str) and path.startswith("/") for path in files
    ):
        raise InvalidParameterValue(
            f"StrumPermissions.Files must be a list of absolute paths, not {files!r}"
        )
    permissions: dict[str, Any] = {"Network": network, "Files": files}
    if value.get("Policy") is not None:
        try:
            Policy.parse(value["Policy"])
        except PolicyError as exc:
            raise InvalidParameterValue(f"StrumPermissions.Policy is refused: {exc}") from None
        document = value["Policy"]
        permissions["Policy"] = json.loads(document) if isinstance(document, str) else document
    return permissions


def _runtime(runtime: object) -> str:
    if not isinstance(runtime, str) or not runtime:
        raise InvalidParameterValue("Runtime must be a non-empty string")
    if runtime in DEPRECATED_RUNTIMES:
        raise InvalidParameterValue(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use a supported runtime while "
            "creating or updating functions."
        )
    if runtime not in PYTHON_RUNTIMES and runtime not in CUSTOM_RUNTIMES:
        raise InvalidParameterValue(
            f"The runtime {runtime} is not supported by strum's platform; use python3.x, or "
            "provided.al2023 with an executable 'bootstrap' in the package for any other "
            "language"
        )
    return runtime


def bounded_int(value: object, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidParameterValue(f"{field} must be an integer, not {value!r}")
    if value < low:
        raise InvalidParameterValue(
            f"'{field}' value failed to satisfy constraint: Member must have value greater "
            f"than or equal to {low}"
        )
    if value > high:
        raise InvalidParameterValue(
            f"'{field}' value failed to satisfy constraint: Member must have value less than "
            f"or equal to {high}"
        )
    return value


def _environment(variables: object) -> dict[str, str]:
    if not isinstance(variables, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in variables.items()
    ):
        raise InvalidParameterValue("Environment.Variables must map names to strings")
    for key in variables:
        if not ENV_NAME_PATTERN.match(key):
            raise model_error(
                key,
                "environment.variables",
                "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])*",
            )
    reserved = sorted(set(variables) & RESERVED_ENVIRONMENT)
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            f"currently not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > ENVIRONMENT_LIMIT:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. String "
            f"measured: {measured[:200]}{'...' if len(measured) > 200 else ''}"
        )
    return dict(variables)


def _architectures(architectures: object) -> list[str]:
    if (
        not isinstance(architectures, list)
        or len(architectures) != 1
        or architectures[0] not in ("x86_64", "arm64")
    ):
        raise InvalidParameterValue("Architectures must name exactly one of x86_64 or arm64")
    return [str(architectures[0])]


def alias_weights(routing: object, primary: str) -> dict[str, float]:
    """Check a ``RoutingConfig`` against the alias's primary version; answer its weights."""
    if routing is None:
        return {}
    if not isinstance(routing, dict):
        raise InvalidParameterValue("RoutingConfig must be an object")
    weights = routing.get("AdditionalVersionWeights") or {}
    if not isinstance(weights, dict):
        raise InvalidParameterValue("AdditionalVersionWeights must map a version to a weight")
    if len(weights) > 1:
        raise InvalidParameterValue(
            "Number of items in AdditionalVersionWeights must be less than or equal to 1"
        )
    checked: dict[str, float] = {}
    for version, weight in weights.items():
        check_version(version, "routingConfig.additionalVersionWeights")
        if not isinstance(weight, (int, float)) or not 0.0 <= weight <= 1.0:
            raise model_error(
                weight,
                "routingConfig.additionalVersionWeights",
                "Member must have value between 0.0 and 1.0",
            )
        if version == "$LATEST" or primary == "$LATEST":
            raise InvalidParameterValue(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        if version == primary:
            raise InvalidParameterValue(
                f"Invalid function version {version}. Function version {version} is already "
                "included in routing configuration."
            )
        checked[version] = float(weight)
    return checked


def url_settings(body: dict[str, Any], *, create: bool) -> dict[str, Any]:
    """auth_type / cors / invoke_mode from a Create/UpdateFunctionUrlConfig body."""
    settings: dict[str, Any] = {}
    if create or "AuthType" in body:
        auth_type = body.get("AuthType")
        if auth_type not in ("NONE", "AWS_IAM"):
            raise model_error(
                auth_type, "authType", "Member must satisfy enum value set: [NONE, AWS_IAM]"
            )
        settings["auth_type"] = auth_type
    if create or "InvokeMode" in body:
        mode = body.get("InvokeMode", "BUFFERED")
        if mode not in ("BUFFERED", "RESPONSE_STREAM"):
            raise model_error(
                mode,
                "invokeMode",
                "Member must satisfy enum value set: [BUFFERED, RESPONSE_STREAM]",
            )
        settings["invoke_mode"] = mode
    if create or "Cors" in body:
        settings["cors"] = _cors(body.get("Cors") or {})
    return settings


def _cors(cors: object) -> dict[str, Any]:
    if not isinstance(cors, dict):
        raise InvalidParameterValue("Cors must be an object")
    checked: dict[str, Any] = {}
    for key in ("AllowHeaders", "AllowMethods", "AllowOrigins", "ExposeHeaders"):
        if key in cors:
            values = cors[key]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise InvalidParameterValue(f"Cors.{key} must be a list of strings")
            checked[key] = values
    for method in checked.get("AllowMethods", []):
        if method.upper() not in URL_METHODS:
            raise InvalidParameterValue(
                f"Cors.AllowMethods: {method!r} is not one of {', '.join(sorted(URL_METHODS))}"
            )
    if "AllowCredentials" in cors:
        if not isinstance(cors["AllowCredentials"], bool):
            raise InvalidParameterValue("Cors.AllowCredentials must be true or false")
        checked["AllowCredentials"] = cors["AllowCredentials"]
    if "MaxAge" in cors:
        checked["MaxAge"] = bounded_int(cors["MaxAge"], "Cors.MaxAge", 0, 86400)
    return checked


# -- responses --------------------------------------------------------------------------


def render_function(store: Store, record: FunctionRecord, qualifier: str | None) -> dict[str, Any]:
    """A ``FunctionConfiguration`` as the API answers it."""
    return {
        "FunctionName": record.name,
        "FunctionArn": store.arn(record.name, qualifier),
        **record.config,
        "CodeSize": record.code_size,
        "CodeSha256": code_sha256(record.code_sha),
        "Version": record.version,
        "LastModified": record.last_modified,
        "RevisionId": record.revision_id,
        "State": "Active",
        "LastUpdateStatus": "Successful",
        "PackageType": "Zip",
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": record.config.get(
            "LoggingConfig", {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{record.name}"}
        ),
    }


def render_alias(store: Store, alias: AliasRecord) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "AliasArn": store.arn(alias.function_name, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.weights:
        rendered["RoutingConfig"] = {"AdditionalVersionWeights": alias.weights}
    return rendered


def render_url_config(store: Store, config: dict[str, Any], url: str) -> dict[str, Any]:
    return {
        "FunctionUrl": url,
        "FunctionArn": store.arn(config["function_name"], config["qualifier"]),
        "AuthType": config["auth_type"],
        "Cors": config["cors"],
        "CreationTime": config["creation_time"],
        "LastModifiedTime": config["last_modified_time"],
        "InvokeMode": config["invoke_mode"],
    }


def page(
    items: list[Any], marker: str | None, max_items: str | None
) -> tuple[list[Any], str | None]:
    """One page of a listing and the marker of the next (AWS's Marker/MaxItems)."""
    try:
        start = int(marker) if marker else 0
        size = int(max_items) if max_items else 50
    except ValueError:
        raise InvalidParameterValue("Marker and MaxItems must be numbers") from None
    if start < 0 or not 1 <= size <= 10000:
        raise InvalidParameterValue("MaxItems must be between 1 and 10000")
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)
