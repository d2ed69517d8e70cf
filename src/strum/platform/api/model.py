"""botocore's service model of Lambda, and requests checked against it as AWS checks them.

AWS refuses a request whose values break the API model - a length, a range, a pattern, an
enum, a required member - with ``ValidationException`` and one message listing every
violation: "2 validation errors detected: Value '40000' at 'memorySize' failed to satisfy
constraint: Member must have value less than or equal to 32768; Value ...". The model is
botocore's ``service-2.json`` (boto3 is a dependency of the platform anyway), loaded on
first use and kept. ``validation_middleware`` finds the operation a route serves by its
method and path in the model, gathers its input from the path, the query, the headers and
the JSON body, and checks it before the handler runs; what Lambda refuses beyond the model
(memory above 10,240 MB for a standard function, reserved environment keys...) stays the
handlers' (``shapes``).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from strum.platform.api._http import error_response, read_body
from strum.platform.errors import PlatformError, ValidationFailed

__all__ = [
    "operation_for",
    "operations_at",
    "service_model",
    "shape",
    "validate",
    "validation_errors",
    "validation_middleware",
]


@functools.cache
def service_model() -> dict[str, Any]:
    """Lambda's service model: botocore's newest ``lambda/<version>/service-2.json``.

    Read from botocore's data directly (about 10 ms; importing ``botocore.loaders`` alone
    costs 150 ms on the first request that needs the model)."""
    import botocore

    root = Path(botocore.__file__).parent / "data" / "lambda"
    newest = max(path for path in root.iterdir() if path.is_dir())
    plain, packed = newest / "service-2.json", newest / "service-2.json.gz"
    raw = plain.read_bytes() if plain.exists() else gzip.decompress(packed.read_bytes())
    model: dict[str, Any] = json.loads(raw)
    return model


def shape(name: str) -> dict[str, Any]:
    """One shape of the model by name."""
    found: dict[str, Any] = service_model()["shapes"][name]
    return found


@functools.lru_cache(maxsize=1024)
def _route_key(method: str, path: str) -> tuple[str, str]:
    """A method and path with their placeholders blanked, so that the model's
    ``{FunctionName}`` and a route's ``{name}`` compare equal."""
    path = re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0]).rstrip("/") or "/"
    return method, path


@functools.cache
def _operations() -> dict[tuple[str, str], dict[str | None, str]]:
    # A listing can share its Get's path, told apart by a query key in the model's
    # requestUri (ListProvisionedConcurrencyConfigs: ``...provisioned-concurrency?List=ALL``).
    found: dict[tuple[str, str], dict[str | None, str]] = {}
    for name, op in service_model()["operations"].items():
        uri = op["http"]["requestUri"]
        query = uri.partition("?")[2].partition("=")[0] or None
        found.setdefault(_route_key(op["http"]["method"], uri), {})[query] = name
    return found


def operation_for(method: str, path: str, query: Iterable[str] = ()) -> str | None:
    """The name of the model's operation at ``method`` and route ``path`` (with the query
    keys of the request, which tell a listing from the Get sharing its path), or None."""
    named = _operations().get(_route_key(method, path))
    if named is None:
        return None
    for key in query:
        if key in named:
            return named[key]
    return named.get(None)


def operations_at(method: str, path: str) -> set[str]:
    """Every operation of the model at ``method`` and route ``path``."""
    return set(_operations().get(_route_key(method, path), {}).values())


def validate(operation: str, params: dict[str, Any]) -> None:
    """Raise ``ValidationFailed`` in AWS's words if ``params`` break ``operation``'s input."""
    if all(value is None or isinstance(value, str | int) for value in params.values()):
        # Path, query and header values only (Invoke, every GET): the same few recur on the
        # hot path, so their verdicts are kept.
        errors = list(_scalar_errors(operation, tuple(sorted(params.items()))))
    else:
        errors = validation_errors(operation, params)
    if errors:
        count = len(errors)
        raise ValidationFailed(
            f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(errors)
        )


@functools.lru_cache(maxsize=4096)
def _scalar_errors(operation: str, items: tuple[tuple[str, Any], ...]) -> tuple[str, ...]:
    return tuple(validation_errors(operation, dict(items)))


def validation_errors(operation: str, params: dict[str, Any]) -> list[str]:
    """Every violation of ``operation``'s input shape by ``params`` (AWS's sentences)."""
    input_ref = service_model()["operations"][operation].get("input")
    if input_ref is None:
        return []
    errors: list[str] = []
    _check_structure(params, shape(input_ref["shape"]), "", errors)
    return errors


# -- the checks, shape by shape ----------------------------------------------------------


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(path: str, member: str) -> str:
    return f"{path}.{_camel(member)}" if path else _camel(member)


def _render(value: object) -> str:
    """A value as AWS's messages print it (Java's toString of the parsed value)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_render(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _failure(value: object, path: str, constraint: str, sensitive: bool) -> str:
    # Sensitive members (environment variables...) are named without their value.
    shown = "Value" if sensitive else f"Value '{_render(value)}'"
    return f"{shown} at '{path}' failed to satisfy constraint: {constraint}"


def _check_structure(
    value: dict[str, Any], spec: dict[str, Any], path: str, errors: list[str]
) -> None:
    for required in spec.get("required", ()):
        if value.get(required) is None:
            errors.append(
                f"Value null at '{_join(path, required)}' failed to satisfy constraint: "
                "Member must not be null"
            )
    for member, ref in spec.get("members", {}).items():
        item = value.get(member)
        if item is not None:
            _check_value(item, ref["shape"], _join(path, member), errors)


def _check_value(value: object, shape_name: str, path: str, errors: list[str]) -> None:
    spec = shape(shape_name)
    kind = spec["type"]
    sensitive = bool(spec.get("sensitive"))
    if kind == "structure":
        if isinstance(value, dict):
            _check_structure(value, spec, path, errors)
        return
    if kind == "list" and isinstance(value, list):
        errors.extend(_failure(value, path, c, sensitive) for c in _size(value, spec, "length"))
        inner = sorted({c for item in value for c in _constraints(item, spec["member"]["shape"])})
        if inner:
            errors.append(
                _failure(
                    value, path, f"Member must satisfy constraint: [{', '.join(inner)}]", sensitive
                )
            )
        # AWS numbers a list's members from 1: "at 'fileSystemConfigs.1.member.arn'".
        for index, item in enumerate(value, start=1):
            if isinstance(item, dict):
                _check_value(item, spec["member"]["shape"], f"{path}.{index}.member", errors)
        return
    if kind == "map" and isinstance(value, dict):
        errors.extend(_failure(value, path, c, sensitive) for c in _size(value, spec, "length"))
        for part, items in (("keys", value.keys()), ("value", value.values())):
            ref = spec["key" if part == "keys" else "value"]["shape"]
            found = sorted({c for item in items for c in _constraints(item, ref)})
            if found:
                label = "Map keys" if part == "keys" else "Map value"
                errors.append(
                    _failure(
                        value, path, f"{label} must satisfy constraint: [{', '.join(found)}]",
                        sensitive or bool(shape(ref).get("sensitive")),
                    )
                )  # fmt: skip
        return
    errors.extend(_failure(value, path, c, sensitive) for c in _constraints(value, shape_name))


def _constraints(value: object, shape_name: str) -> list[str]:
    """The constraints of a scalar shape that ``value`` breaks."""
    spec = shape(shape_name)
    kind = spec["type"]
    if kind == "string" and isinstance(value, str):
        broken = _size(value, spec, "length")
        if "enum" in spec and value not in spec["enum"]:
            broken.append(f"Member must satisfy enum value set: [{', '.join(spec['enum'])}]")
        if "pattern" in spec and not _matcher(spec["pattern"])(value):
            broken.append(f"Member must satisfy regular expression pattern: {spec['pattern']}")
        return broken
    if kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        return _size(value, spec, "value")
    return []


def _size(value: object, spec: dict[str, Any], what: str) -> list[str]:
    measure = value if what == "value" else len(value)  # type: ignore[arg-type]
    assert isinstance(measure, int)
    broken = []
    if "min" in spec and measure < spec["min"]:
        broken.append(f"Member must have {what} greater than or equal to {spec['min']}")
    if "max" in spec and measure > spec["max"]:
        broken.append(f"Member must have {what} less than or equal to {spec['max']}")
    return broken


_UNICODE_CLASS = re.compile(r"^\(\[((?:\\p\{[LZN]\})+)([^\]]*)\]\*\)$")


@functools.cache
def _matcher(pattern: str) -> Callable[[str], bool]:
    """A full-match test for one of the model's (Java) patterns. Python's ``re`` has no
    ``\\p{L}``; the model's only such patterns (tag keys and values) are one class of
    Unicode categories and literal characters, tested character by character."""
    special = _UNICODE_CLASS.match(pattern)
    if special is not None:
        categories = set(re.findall(r"\\p\{([LZN])\}", special[1]))
        literal = set(re.sub(r"\\(.)", r"\1", special[2]))

        def allowed(char: str) -> bool:
            return (
                char in literal
                or ("L" in categories and char.isalpha())
                or ("N" in categories and char.isnumeric())
                or ("Z" in categories and char.isspace() and char not in "\t\n\r\f\v")
            )

        return lambda text: all(allowed(char) for char in text)
    try:
        compiled = re.compile(pattern, re.DOTALL)
    except re.error:
        return lambda text: True
    return lambda text: compiled.fullmatch(text) is not None


# -- the middleware ----------------------------------------------------------------------


async def request_params(request: web.Request, operation: str) -> dict[str, Any]:
    """The input of ``operation`` as a request carries it: path, query, headers, body."""
    op = service_model()["operations"][operation]
    spec = shape(op["input"]["shape"]) if "input" in op else {"members": {}}
    route = request.match_info.route.resource
    names = _placeholders(route.canonical) if route is not None else ()
    path_values = dict(
        zip(
            _placeholders(op["http"]["requestUri"]),
            map(request.match_info.get, names),
            strict=False,
        )
    )
    params: dict[str, Any] = {}
    has_payload = "payload" in spec
    for member, ref in spec.get("members", {}).items():
        where, name = ref.get("location"), ref.get("locationName", member)
        if where == "uri":
            params[member] = path_values.get(name)
        elif where == "querystring":
            if name in request.query:
                values = request.query.getall(name)
                params[member] = (
                    values
                    if shape(ref["shape"])["type"] == "list"
                    else _from_text(values[0], ref["shape"])
                )
        elif where == "header" and name in request.headers:
            params[member] = _from_text(request.headers[name], ref["shape"])
    if has_payload and request.body_exists:
        # A streaming blob (Invoke's Payload, InvokeAsync's InvokeArgs) is the body itself;
        # only its presence is the model's business, and the body is not read for it here.
        params[spec["payload"]] = "<body>"
    if not has_payload and request.method in ("POST", "PUT", "PATCH"):
        body = await read_body(request)
        for member, ref in spec.get("members", {}).items():
            if "location" not in ref and member in body:
                params[member] = body[member]
    return params


@functools.lru_cache(maxsize=1024)
def _placeholders(path: str) -> tuple[str, ...]:
    """The names of a path's ``{placeholders}``, in order (``{Name+}`` and ``{name:regex}``
    give ``Name`` and ``name``)."""
    return tuple(re.findall(r"\{([^}:+]*)[^}]*\}", path))


def _from_text(text: str, shape_name: str) -> object:
    if shape(shape_name)["type"] in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            return text
    return text


def validation_middleware() -> Middleware:
    """Check every request that is one of the model's operations against its input shape."""

    @web.middleware
    async def check_input(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        operation = (
            operation_for(request.method, route.canonical, request.query)
            if route is not None
            else None
        )
        if operation is not None:
            try:
                validate(operation, await request_params(request, operation))
            except PlatformError as error:
                return error_response(error, str(uuid.uuid4()))
        return await handler(request)

    return check_input
