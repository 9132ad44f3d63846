"""The benchmark's URLconf: every URL of the project, plus `floor/`, the physical floor.

The floor is a bare view rendering a static template through the same middleware as every page
(sessions, staff login, CSP, time zone, upstream budget): what any page costs before it asks the
cache or Truedy for anything. It writes no audit row and reads no data.
"""

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET

from truedy_dashboard.urls import urlpatterns as project_urlpatterns

FLOOR_TEMPLATE = engines["django"].from_string(
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Floor</title></head>'
    "<body><main><h1>Floor</h1><p>A static page: the cost of a request with nothing to do."
    "</p></main></body></html>\n"
)


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, FLOOR_TEMPLATE)


urlpatterns = [*project_urlpatterns, path("floor/", floor, name="bench_floor")]
