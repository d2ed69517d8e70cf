from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse

from tests.adapter.apps.payloads import GZIP_JSON, PNG_BYTES, STREAM_CHUNKS, echo

app = FastAPI()


@app.get("/hello", response_class=PlainTextResponse)
def hello(name: str = "world"):
    return f"hello {name}"


@app.api_route("/echo", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
async def echo_route(request: Request):
    return echo(
        request.method,
        request.url.path,
        request.scope.get("root_path", ""),
        request.query_params.multi_items(),
        request.headers.getlist("x-multi"),
        request.cookies,
        await request.body(),
        request.headers.get("content-type"),
    )


@app.get("/cookies")
def cookies():
    response = PlainTextResponse("cookies set")
    response.set_cookie("a", "1", httponly=True)
    response.set_cookie("b", "2", path="/x")
    response.raw_headers.append((b"x-rep", b"1"))
    response.raw_headers.append((b"x-rep", b"2"))
    return response


@app.get("/redirect")
def redirect_route(request: Request):
    return RedirectResponse(str(request.url_for("hello")) + "?name=again", status_code=302)


@app.get("/binary")
def binary():
    return Response(PNG_BYTES, media_type="image/png")


@app.get("/gzip")
def gzipped():
    return Response(GZIP_JSON, headers={"Content-Encoding": "gzip"}, media_type="application/json")


@app.get("/stream")
def stream():
    return StreamingResponse(iter(STREAM_CHUNKS), media_type="text/plain")


@app.post("/upload")
async def upload(request: Request):
    form = await request.form()
    file = form["file"]
    data = await file.read()  # type: ignore[union-attr]
    await form.close()
    return {"filename": file.filename, "size": len(data), "note": form["note"]}  # type: ignore[union-attr]


@app.get("/unicode/{name}")
def unicode(name: str, request: Request):
    return {"name": name, "url": str(request.url_for("unicode", name=name))}


@app.get("/error")
def error():
    raise RuntimeError("boom")
