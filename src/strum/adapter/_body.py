"""Response bodies: text or base64, and Lambda's payload ceiling.

Every gateway sends a body with ``isBase64Encoded: false`` as the UTF-8 bytes of the string,
so text is only safe when the bytes *are* valid UTF-8. strum sends text for the text media
types below (plus the user's ``text_mime_types``) and for bodies with no ``Content-Type`` that
decode cleanly; everything else, and anything with a ``Content-Encoding``, goes as base64.
"""

from __future__ import annotations

import binascii

# Lambda rejects a synchronous response payload over 6 MB with an opaque
# "Function.ResponseSizeTooLarge"; strum answers with a readable 502 before that happens.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024
# Room reserved for status, headers and JSON punctuation when checking the body.
_ENVELOPE_ALLOWANCE = 16 * 1024

_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/x-www-form-urlencoded",
        "image/svg+xml",
    }
)
_TEXT_SUFFIXES = ("+json", "+xml", "+yaml")


def is_text_type(content_type: str, extra: frozenset[str] = frozenset()) -> bool:
    """Whether a ``Content-Type`` value names a textual media type.

    Parameters (``; charset=...``) and case are ignored. ``extra`` holds additional media
    types (already lower-case) that the user declared textual.
    """
    mime = content_type.split(";", 1)[0].strip().lower()
    return (
        mime.startswith("text/")
        or mime in _TEXT_TYPES
        or mime.endswith(_TEXT_SUFFIXES)
        or "javascript" in mime
        or mime in extra
    )


def encode_body(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    extra_text_types: frozenset[str] = frozenset(),
) -> tuple[str, bool]:
    """Return ``(body, is_base64_encoded)`` for a Lambda HTTP response."""
    if not body:
        return "", False
    if content_encoding is None and (
        content_type is None or is_text_type(content_type, extra_text_types)
    ):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return binascii.b2a_base64(body, newline=False).decode("ascii"), True


def too_large(body: str) -> bool:
    """Whether an encoded body would push the response over Lambda's 6 MB limit."""
    # len() counts characters; non-ASCII text takes up to 6 bytes each once JSON-escaped,
    # so only the cheap check is exact for the common case and the slow one is rare.
    if len(body) + _ENVELOPE_ALLOWANCE <= MAX_RESPONSE_BYTES // 6:
        return False
    if body.isascii():
        return len(body) + _ENVELOPE_ALLOWANCE > MAX_RESPONSE_BYTES
    import json

    return len(json.dumps(body)) + _ENVELOPE_ALLOWANCE > MAX_RESPONSE_BYTES
