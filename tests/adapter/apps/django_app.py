"""A one-file Django project: settings, views and URLs."""

from __future__ import annotations

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="strum-tests-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        USE_TZ=True,
        DEFAULT_CHARSET="utf-8",
        LOGGING_CONFIG=None,
    )
    django.setup()

import gzip

from django.core.handlers.wsgi import WSGIHandler
from django.http import (
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import path, reverse

from tests.adapter.apps.payloads import GZIP_JSON, PNG_BYTES, STREAM_CHUNKS, echo

_ = gzip


def hello(request):
    return HttpResponse(f"hello {request.GET.get('name', 'world')}", content_type="text/plain")


def echo_view(request):
    multi = request.headers.get("X-Multi")
    return JsonResponse(
        echo(
            request.method,
            request.path,
            request.META.get("SCRIPT_NAME", ""),
            request.GET.lists() and [(k, v) for k, vs in request.GET.lists() for v in vs],
            [multi] if multi else [],
            request.COOKIES,
            request.body,
            request.META.get("CONTENT_TYPE") or None,
        )
    )


def cookies(request):
    response = HttpResponse("cookies set", content_type="text/plain")
    response.set_cookie("a", "1", httponly=True)
    response.set_cookie("b", "2", path="/x")
    return response


def redirect_view(request):
    return HttpResponseRedirect(reverse("hello") + "?name=again")


def binary(request):
    return HttpResponse(PNG_BYTES, content_type="image/png")


def gzipped(request):
    response = HttpResponse(GZIP_JSON, content_type="application/json")
    response["Content-Encoding"] = "gzip"
    return response


def stream(request):
    return StreamingHttpResponse(iter(STREAM_CHUNKS), content_type="text/plain")


def upload(request):
    file = request.FILES["file"]
    return JsonResponse(
        {"filename": file.name, "size": len(file.read()), "note": request.POST["note"]}
    )


def unicode(request, name):
    return JsonResponse(
        {"name": name, "url": request.build_absolute_uri(reverse("unicode", args=[name]))}
    )


def error(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("hello", hello, name="hello"),
    path("echo", echo_view),
    path("cookies", cookies),
    path("redirect", redirect_view),
    path("binary", binary),
    path("gzip", gzipped),
    path("stream", stream),
    path("upload", upload),
    path("unicode/<str:name>", unicode, name="unicode"),
    path("error", error),
]

app = WSGIHandler()
