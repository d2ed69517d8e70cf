"""A small Flask app: pages, JSON, a session cookie and a redirect."""

from flask import Flask, jsonify, redirect, render_template_string, request, session, url_for

app = Flask(__name__)
app.secret_key = "strum-example-not-secret"  # noqa: S105 - an example; use an env var in real apps

PAGE = """<!doctype html>
<title>strum + Flask</title>
<h1>Hello from Flask on strum</h1>
<p>You have visited {{ visits }} time(s). <a href="{{ url_for('api') }}">JSON</a></p>
"""


@app.get("/")
def index():
    session["visits"] = session.get("visits", 0) + 1
    return render_template_string(PAGE, visits=session["visits"])


@app.get("/api")
def api():
    return jsonify(message="hello", path=request.path, root=request.root_path)


@app.get("/home")
def home():
    return redirect(url_for("index"))
