from django.urls import path
from django.views.generic.base import RedirectView

from calls import views

urlpatterns = [
    path("", RedirectView.as_view(url="/calls/", permanent=False)),
    path("calls/", views.call_list, name="call_list"),
]
