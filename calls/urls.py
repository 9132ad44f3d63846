from django.urls import path
from django.views.generic.base import RedirectView

from calls import views

urlpatterns = [
    path("", RedirectView.as_view(url="/calls/", permanent=False)),
    path("calls/", views.call_list, name="call_list"),
    # <str:> takes any segment: the view checks it against the call-id pattern before use (S13).
    path("calls/<str:call_id>/", views.call_detail, name="call_detail"),
    path("calls/<str:call_id>/recording", views.call_recording, name="call_recording"),
    path(
        "calls/<str:call_id>/transcript.txt",
        views.call_transcript_text,
        name="call_transcript_text",
    ),
    path("calls/<str:call_id>/played", views.call_played, name="call_played"),
]
