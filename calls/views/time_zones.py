"""The time-zone picker's names, fetched once by static/js/zone-picker.js: the list page carries
only the zone in effect, not ~420 options on every load."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from calls.lib.timezones import zone_names_json, zone_names_version

# The URL names the list's version: a browser keeps it until tzdata changes it.
FOR_EVER = "private, max-age=31536000, immutable"


@require_GET
def time_zone_names(request: HttpRequest, version: str) -> HttpResponse:
    if version != zone_names_version():  # a page from before a tzdata update
        return redirect("calls:time_zone_names", version=zone_names_version())
    response = HttpResponse(zone_names_json(), content_type="application/json")
    response["Cache-Control"] = FOR_EVER
    return response
