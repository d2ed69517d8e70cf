from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse


def index(request):
    visits = request.session.get("visits", 0) + 1
    request.session["visits"] = visits
    return render(request, "pages/index.html", {"visits": visits})


def api(request):
    return JsonResponse({"message": "hello from Django", "admin": reverse("admin:index")})
