from __future__ import annotations

from flask import Flask, Response, redirect, request, stream_with_context, url_for

from tests.adapter.apps.payloads import GZIP_JSON, PNG_BYTES, STREAM_CHUNKS, echo

app = Flask(__name__)


@app.get("/hello")
def hello():
    return Response(f"hello {request.args.get('name', 'world')}", mimetype="text/plain")


@app.route("/echo", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def echo_route():
    return echo(
        request.method,
        request.path,
        request.root_path,
        request.args.items(multi=True),
        request.headers.getlist("X-Multi"),
        request.cookies,
        request.get_data(),
        request.content_type,
    )


@app.get("/cookies")
def cookies():
    response = Response("cookies set", mimetype="text/plain")
    response.set_cookie("a", "1", httponly=True)
    response.set_cookie("b", "2", path="/x")
    response.headers.add("X-Rep", "1")
    response.headers.add("X-Rep", "2")
    return response


@app.get("/redirect")
def redirect_route():
    return redirect(url_for("hello", name="again"))


@app.get("/binary")
def binary():
    return Response(PNG_BYTES, mimetype="image/png")


@app.get("/gzip")
def gzipped():
    return Response(GZIP_JSON, headers={"Content-Encoding": "gzip"}, mimetype="application/json")


@app.get("/stream")
def stream():
    return Response(stream_with_context(iter(STREAM_CHUNKS)), mimetype="text/plain")


@app.post("/upload")
def upload():
    upload = request.files["file"]
    return {"filename": upload.filename, "size": len(upload.read()), "note": request.form["note"]}


@app.get("/unicode/<name>")
def unicode(name):
    return {"name": name, "url": url_for("unicode", name=name, _external=True)}


@app.get("/error")
def error():
    raise RuntimeError("boom")
