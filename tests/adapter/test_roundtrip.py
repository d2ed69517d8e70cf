"""Property-based round trips: request -> event -> echoing app -> response, for every kind.

Whatever the headers, query and body, the app sees exactly what the client sent and the
client gets back exactly the bytes the app answered with.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strum import make_handler
from tests.adapter.gateway import GatewayRequest, from_response, to_event

KINDS = ("rest-v1", "http-v1", "http-v2", "function-url", "alb-multi", "lattice-v2")

header_names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).map(
    lambda s: "x-" + s
)
# Gateways trim surrounding whitespace and use "," to join repeats; values stay visible ASCII.
header_values = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","), max_size=30
)
query_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


def echo_wsgi(environ, start_response):
    seen = {
        "headers": {
            key[5:].lower().replace("_", "-"): value
            for key, value in environ.items()
            if key.startswith("HTTP_X_")
        },
        "query": parse_qsl(environ["QUERY_STRING"], keep_blank_values=True),
    }
    body = environ["wsgi.input"].read()
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("X-Seen", json.dumps(seen))],
    )
    return [body]


async def echo_asgi(scope, receive, send):
    message = await receive()
    seen = {
        "headers": {k.decode(): v.decode() for k, v in scope["headers"] if k.startswith(b"x-")},
        "query": parse_qsl(scope["query_string"].decode(), keep_blank_values=True),
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/octet-stream"),
                (b"x-seen", json.dumps(seen).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": message["body"]})


HANDLERS = {
    "wsgi": make_handler(echo_wsgi),
    "asgi": make_handler(echo_asgi, lifespan="off"),
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    interface=st.sampled_from(sorted(HANDLERS)),
    headers=st.dictionaries(header_names, header_values, max_size=6),
    query=st.lists(st.tuples(query_text.filter(bool), query_text), max_size=5),
    body=st.binary(max_size=300),
    method=st.sampled_from(["POST", "PUT", "PATCH"]),
)
def test_round_trip(kind, interface, headers, query, body, method):
    request = GatewayRequest(
        method=method,
        path="/echo",
        headers=list(headers.items()),
        query=query,
        body=body,
        binary=True,
    )
    response = from_response(kind, HANDLERS[interface](to_event(kind, request), None))
    assert response.status == 200
    assert response.body == body
    seen = json.loads(response.header("x-seen") or "{}")
    expected_headers = dict(headers.items())
    expected_headers.update({"x-forwarded-proto": "https", "x-forwarded-port": "443"})
    expected_headers.pop("x-forwarded-for", None)
    got = {k: v for k, v in seen["headers"].items() if k != "x-forwarded-for"}
    got = {k: v for k, v in got.items() if k in expected_headers}
    assert got == {k: v for k, v in expected_headers.items() if k in got}
    assert set(headers) <= set(seen["headers"])
    # Multi-value maps group by key: order across keys is the gateway's, within a key ours.
    by_key = lambda pairs: sorted(pairs, key=lambda pair: pair[0])  # noqa: E731 (stable sort)
    assert by_key(tuple(pair) for pair in seen["query"]) == by_key(query)
