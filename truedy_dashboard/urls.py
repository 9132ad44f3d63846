from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from calls.views import health, webhooks
from calls.views.sign_in import SignInView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign in and out only: staff accounts are managed in the admin, and the site sends no mail,
    # so Django's open password-reset and self-service password-change views are left out.
    path("accounts/login/", SignInView.as_view(), name="login"),
    # Anyone signed in may sign out, staff or not (the staff rule would answer 403 and leave a
    # non-staff session alive); signing out when signed out is harmless.
    path("accounts/logout/", login_not_required(auth_views.LogoutView.as_view()), name="logout"),
    # For the load balancer: open without signing in, checks the database and cache only.
    path("healthz", health.healthz, name="healthz"),
    # Truedy's deliveries: open without signing in, each one checked by its HMAC signature.
    path("webhooks/truedy", webhooks.truedy_webhook, name="truedy_webhook"),
    path("", include("calls.urls")),
]
