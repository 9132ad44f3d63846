from django.urls import path
from django.views.generic.base import RedirectView

from calls.views import (
    agents,
    agreement,
    alerts,
    background,
    call_detail,
    call_list,
    campaigns,
    downloads,
    live,
    notes,
    personal_data,
    recording_bundle,
    review_queues,
    reviews,
    saved_views,
    scorecards,
    time_zones,
)

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
    path("calls/recordings.zip", recording_bundle.recordings_zip, name="recordings_zip"),
    # Also before them: "totals" and "saved-views" are not call ids either.
    path("calls/totals/", call_list.call_totals, name="call_totals"),
    path("calls/live/", live.live_updates, name="live_updates"),
    path("calls/time-zones/<str:version>.json", time_zones.time_zone_names, name="time_zone_names"),
    path("calls/saved-views/", saved_views.saved_view_create, name="saved_view_create"),
    path(
        "calls/saved-views/<int:view_id>/delete",
        saved_views.saved_view_delete,
        name="saved_view_delete",
    ),
    # Before the call patterns too: "agreement" and "notes" are not call ids.
    path("calls/agreement/", agreement.agreement_table, name="agreement"),
    path("calls/notes/<int:note_id>/", notes.note_detail, name="note_detail"),
    path("calls/notes/<int:note_id>/resolve", notes.note_resolve, name="note_resolve"),
    path("for-you/", notes.for_you, name="for_you"),
    path("scorecards/", scorecards.scorecard_list, name="scorecard_list"),
    path("scorecards/new", scorecards.scorecard_new, name="scorecard_new"),
    path("scorecards/<int:scorecard_id>/", scorecards.scorecard_detail, name="scorecard_detail"),
    path("scorecards/<int:scorecard_id>/edit", scorecards.scorecard_edit, name="scorecard_edit"),
    path(
        "scorecards/<int:scorecard_id>/retire",
        scorecards.scorecard_retire,
        name="scorecard_retire",
    ),
    path("agents/", agents.agent_table, name="agent_table"),
    path("agents/export.csv", agents.agent_table_csv, name="agent_table_csv"),
    path("alerts/", alerts.alert_list, name="alert_list"),
    path("alerts/<int:issue_id>/acknowledge", alerts.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<int:issue_id>/resolve", alerts.alert_resolve, name="alert_resolve"),
    path(
        "alerts/deliveries/<int:delivery_id>/retry",
        alerts.alert_delivery_retry,
        name="alert_delivery_retry",
    ),
    path("alerts/rules/", alerts.alert_rule_list, name="alert_rule_list"),
    path("alerts/rules/new", alerts.alert_rule_new, name="alert_rule_new"),
    path("alerts/rules/<int:rule_id>/edit", alerts.alert_rule_edit, name="alert_rule_edit"),
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    # <str:> takes any segment: the view checks it against the id pattern before use.
    path("campaigns/<str:campaign_id>/", campaigns.campaign_detail, name="campaign_detail"),
    # Before the call patterns as well: "review" is not a call id.
    path("calls/review/start", review_queues.review_start, name="review_start"),
    path("calls/review/done", review_queues.review_done, name="review_done"),
    path("calls/review/sample", review_queues.review_sample, name="review_sample"),
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
    path("calls/<str:call_id>/reveal", personal_data.call_reveal, name="call_reveal"),
    path("calls/<str:call_id>/review", reviews.call_review, name="call_review"),
    path("calls/<str:call_id>/review/skip", review_queues.review_skip, name="review_skip"),
    path("calls/<str:call_id>/outcome", reviews.call_outcome, name="call_outcome"),
    path("calls/<str:call_id>/notes/", notes.call_notes, name="call_notes"),
    path("calls/<str:call_id>/scorecard", scorecards.call_scorecard, name="call_scorecard"),
]
