"""Public views of procedures."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from procedures.format import schema


@require_GET
@cache_control(public=True, max_age=3600)
def procedure_schema(request: HttpRequest) -> JsonResponse:
    """The JSON Schema of govtech.procedure.v1, for editors, vendors and other installations."""
    return JsonResponse(schema(), json_dumps_params={"ensure_ascii": False, "indent": 2})
