"""The project's URLs plus ``/bench/bare/``: the baseline the webhook is measured against."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from govtech.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def bare(request: HttpRequest) -> JsonResponse:
    """Same middleware, same body read as the webhook; no signature, database or queue."""
    return JsonResponse({"accepted": len(request.body) > 0})


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *project_urlpatterns]
