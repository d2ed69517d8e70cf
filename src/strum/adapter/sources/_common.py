"""Translation pieces that several event sources share.

Kept free of heavy imports: ``urllib.parse`` (and the ``re`` it pulls in) is imported only
when a request actually needs percent-coding, so importing the adapter stays cheap.
"""

from __future__ import annotations

import binascii

# Typing names only: importing typing and collections.abc would cost milliseconds of cold start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

Headers = list[tuple[str, str]]

# Header names in the order the app sent them; each value kept. The formats below turn this
# into the shape each gateway accepts.


def text_field(event: Mapping[str, Any], key: str) -> str:
    """``event[key]``, which must be a string (KeyError when absent, as for any key)."""
    value = event[key]
    if type(value) is not str:
        raise TypeError(f"{key!r} should be a string, not {type(value).__name__}")
    return value


def decode_body(body: str | None, is_base64: bool | None) -> bytes:
    """The request body as bytes: base64-decoded when the event says so."""
    if not body:
        return b""
    if is_base64:
        try:
            return binascii.a2b_base64(body, strict_mode=True)
        except binascii.Error as exc:
            raise ValueError(
                f"the body is marked isBase64Encoded but is not base64 ({exc})"
            ) from None
    return body.encode("utf-8")


def unquote_path(path: str) -> str:
    """Percent-decode a path as UTF-8 (invalid sequences become U+FFFD, as browsers show)."""
    if "%" not in path:
        return path
    from urllib.parse import unquote

    return unquote(path, errors="replace")


def quote_path(path: str) -> str:
    """Percent-encode a decoded path (for ``raw_path``)."""
    if path.isascii() and " " not in path and "%" not in path and "?" not in path:
        return path
    from urllib.parse import quote

    return quote(path, safe="/:@!$&'()*+,;=~")


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Percent-encode decoded query parameters into a query string."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in pairs)


def encode_query_map(single: dict[str, Any] | None, multi: dict[str, Any] | None) -> str:
    """The query string from decoded single- or multi-value parameter maps (multi wins)."""
    return "&".join(f"{_quote(key)}={_quote(value)}" for key, value in _query_items(single, multi))


def _query_items(
    single: dict[str, Any] | None, multi: dict[str, Any] | None
) -> list[tuple[str, str]]:
    """Query parameters from the multi-value map when present, else the single-value one."""
    if multi:
        items: list[tuple[str, str]] = []
        for key, values in multi.items():
            if type(values) is not list:
                if values is None:
                    continue
                raise TypeError(f"query parameter {key!r} should map to a list of values")
            items.extend((key, value) for value in values)
        return items
    return list(single.items()) if single else []


def _quote(text: str) -> str:
    # Most keys and values are plain words; urllib's quote costs microseconds per call.
    if text.isalnum() and text.isascii():
        return text
    from urllib.parse import quote

    return quote(text, safe="")


def join_raw_query(single: dict[str, Any] | None, multi: dict[str, Any] | None) -> str:
    """Join query parameters that the gateway left percent-encoded (ALB), multi-value first."""
    return "&".join(
        f"{key}={value}" if value else key for key, value in _query_items(single, multi)
    )


def group_headers(headers: Headers) -> dict[str, list[str]]:
    """Response headers as ``{name: [values]}`` (REST v1 and multi-value ALB)."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        if name in grouped:
            grouped[name].append(value)
        else:
            grouped[name] = [value]
    return grouped


def join_headers(headers: Headers) -> tuple[dict[str, str], list[str]]:
    """Response headers folded into single values, with ``Set-Cookie`` values set apart.

    Repeated headers are joined with ``", "`` (RFC 9110 5.3), matching names without regard
    to case. ``Set-Cookie`` cannot be folded that way, so its values come back separately
    for the caller to place where its gateway allows.
    """
    joined: dict[str, str] = {}
    cookies: list[str] = []
    first_name: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            cookies.append(value)
        elif lower in first_name:
            original = first_name[lower]
            joined[original] = f"{joined[original]}, {value}"
        else:
            first_name[lower] = name
            joined[name] = value
    return joined, cookies


def cookie_case_variants(values: list[str]) -> dict[str, str]:
    """Spread several ``Set-Cookie`` values over distinct spellings of the header name.

    Gateways with single-value header maps (single-value ALB, VPC Lattice) keep one value per
    key, but keys are compared case-sensitively in JSON while HTTP compares names
    case-insensitively: ``Set-Cookie``, ``set-Cookie``, ... all reach the browser as cookies.
    """
    if len(values) > 512:
        raise ValueError(f"{len(values)} Set-Cookie headers; a single-value gateway allows 512")
    variants: dict[str, str] = {}
    for index, value in enumerate(values):
        # Each bit of the index upper-cases one of the nine letters of "setcookie".
        letters = [c.upper() if index >> bit & 1 else c for bit, c in enumerate("setcookie")]
        variants["".join(letters[:3]) + "-" + "".join(letters[3:])] = value
    return variants


def reason_phrase(status: int) -> str:
    """The standard reason phrase for a status code ("" when unknown)."""
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def request_context(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``event["requestContext"]``, or an empty map when the gateway sent none."""
    context = event.get("requestContext")
    return context if isinstance(context, dict) else {}
