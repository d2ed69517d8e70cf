"""``strum invoke --path``: call the stage's web app as its function URL would, from the CLI.

The request becomes the payload 2.0 event the platform's Function URL listener itself
builds (``strum.deploy.url_event``, over ``strum.platform.urls.events``), so what the app sees is what a browser's request
would give it; the response envelope is printed as an HTTP response.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import click

from strum.cli.output import show_invocation_start
from strum.deploy import url_event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from strum.deploy import Target


def invoke_http(
    target: Target,
    path: str,
    method: str,
    header_args: tuple[str, ...],
    data: str | None,
    asynchronous: bool,
) -> None:
    """``strum invoke --path``: a Function URL event in, the HTTP response printed out."""
    if not path.startswith("/"):
        raise click.BadParameter(f"{path!r} is not a path: start it with /", param_hint="--path")
    pairs = []
    for header in header_args:
        name, colon, value = header.partition(":")
        if not colon or not name.strip():
            raise click.BadParameter(f"{header!r} is not NAME:VALUE", param_hint="--header")
        pairs.append((name.strip(), value.strip()))
    body = b""
    if data is not None:
        body = Path(data[1:]).read_bytes() if data.startswith("@") else data.encode()
    config = target.config
    # The event the platform's URL listener builds for this request (one builder: a
    # deploy's ``check`` sends its GET through it too).
    event = url_event(
        config.function_name,
        config.region or "us-east-1",
        path,
        method=method,
        headers=pairs,
        body=body,
    )
    _status, response_headers, payload = target.invoke(
        json.dumps(event).encode(), asynchronous=asynchronous
    )
    if show_invocation_start(response_headers, asynchronous):
        return
    if response_headers.get("x-amz-function-error"):
        click.echo(payload.decode("utf-8", "replace"))
        sys.exit(1)
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "statusCode" not in answer:
        click.echo(payload.decode("utf-8", "replace"))
        return
    click.echo(f"HTTP {answer['statusCode']}")
    for name, value in (answer.get("headers") or {}).items():
        click.echo(f"{name}: {value}")
    for cookie in answer.get("cookies") or ():
        click.echo(f"set-cookie: {cookie}")
    click.echo("")
    text = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        raw = base64.b64decode(text)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = f"<{len(raw)} bytes of binary body>"
    click.echo(text)
    if int(answer["statusCode"]) >= 500:
        sys.exit(1)
