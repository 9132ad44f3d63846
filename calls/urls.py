from django.urls import path
from django.views.generic.base import RedirectView

from calls.views import background, call_detail, call_list, downloads, saved_views

app_name = "calls"

urlpatterns = [
    path("", RedirectView.as_view(url="/calls/", permanent=False)),
    path("background/", background.background_work, name="background_work"),
    path(
        "background/failed/<str:task_id>/retry",
        background.retry_failed_task,
        name="retry_failed_task",
    ),
    path("calls/", call_list.call_list, name="call_list"),
    # Before the call patterns: "export.csv" must never be taken for a call id.
    path("calls/export.csv", downloads.calls_export_csv, name="calls_export_csv"),
    # Also before them: "totals" and "saved-views" are not call ids either.
    path("calls/totals/", call_list.call_totals, name="call_totals"),
    path("calls/saved-views/", saved_views.saved_view_create, name="saved_view_create"),
    path(
        "calls/saved-views/<int:view_id>/delete",
        saved_views.saved_view_delete,
        name="saved_view_delete",
    ),
    # <str:> takes any segment: the view checks it against the call-id pattern before use.
    path("calls/<str:call_id>/", call_detail.call_detail, name="call_detail"),
    path("calls/<str:call_id>/recording", downloads.call_recording, name="call_recording"),
    path(
        "calls/<str:call_id>/transcript.txt",
        downloads.call_transcript_text,
        name="call_transcript_text",
    ),
    path(
        "calls/<str:call_id>/transcript.json",
        downloads.call_transcript_json,
        name="call_transcript_json",
    ),
    path("calls/<str:call_id>/played", call_detail.call_played, name="call_played"),
]
