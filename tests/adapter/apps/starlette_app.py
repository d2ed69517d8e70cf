from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from tests.adapter.apps.payloads import GZIP_JSON, PNG_BYTES, STREAM_CHUNKS, echo


async def hello(request: Request):
    return PlainTextResponse(f"hello {request.query_params.get('name', 'world')}")


async def echo_route(request: Request):
    body = await request.body()
    return JSONResponse(
        echo(
            request.method,
            request.url.path,
            request.scope.get("root_path", ""),
            request.query_params.multi_items(),
            request.headers.getlist("x-multi"),
            request.cookies,
            body,
            request.headers.get("content-type"),
        )
    )


async def cookies(request: Request):
    response = PlainTextResponse("cookies set")
    response.set_cookie("a", "1", httponly=True)
    response.set_cookie("b", "2", path="/x")
    response.raw_headers.append((b"x-rep", b"1"))
    response.raw_headers.append((b"x-rep", b"2"))
    return response


async def redirect_route(request: Request):
    return RedirectResponse(str(request.url_for("hello")) + "?name=again", status_code=302)


async def binary(request: Request):
    return Response(PNG_BYTES, media_type="image/png")


async def gzipped(request: Request):
    return Response(GZIP_JSON, headers={"Content-Encoding": "gzip"}, media_type="application/json")


async def stream(request: Request):
    async def chunks():
        for chunk in STREAM_CHUNKS:
            yield chunk

    return StreamingResponse(chunks(), media_type="text/plain")


async def upload(request: Request):
    form = await request.form()
    file = form["file"]
    data = await file.read()  # type: ignore[union-attr]
    await form.close()
    return JSONResponse({"filename": file.filename, "size": len(data), "note": form["note"]})  # type: ignore[union-attr]


async def unicode(request: Request):
    name = request.path_params["name"]
    return JSONResponse({"name": name, "url": str(request.url_for("unicode", name=name))})


async def error(request: Request):
    raise RuntimeError("boom")


app = Starlette(
    routes=[
        Route("/hello", hello, name="hello"),
        Route("/echo", echo_route, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
        Route("/cookies", cookies),
        Route("/redirect", redirect_route),
        Route("/binary", binary),
        Route("/gzip", gzipped),
        Route("/stream", stream),
        Route("/upload", upload, methods=["POST"]),
        Route("/unicode/{name}", unicode, name="unicode"),
        Route("/error", error),
    ]
)
