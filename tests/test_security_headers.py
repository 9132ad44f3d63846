"""Security headers and production settings: CSP with nonces, clickjacking, no-store, CSRF with
htmx, and Django's deployment checklist on production settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.e2e.calls import recorded_call

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parent.parent
HTMX_PARTIAL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "media-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(response) -> dict[str, str]:
    """The CSP header as {directive: sources}; django-csp does not keep the directives' order."""
    parts = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: sources for name, sources in parts}


def nonces_in(html: str) -> set[str]:
    return set(re.findall(r'<script [^>]*nonce="([^"]*)"', html))


def test_a_full_page_has_the_exact_policy_with_a_fresh_nonce_each_time(staff_client):
    seen = []
    for _ in range(2):
        response = staff_client.get("/calls/?tz=UTC")
        assert response.status_code == 200
        (nonce,) = nonces_in(response.content.decode())
        assert len(nonce) >= 22, "at least 128 random bits"
        assert directives(response) == {**POLICY, "script-src": f"'self' 'nonce-{nonce}'"}
        seen.append(nonce)
    assert seen[0] != seen[1]


def test_the_login_page_has_the_exact_policy(client):
    response = client.get("/accounts/login/")
    (nonce,) = nonces_in(response.content.decode())
    assert directives(response) == {**POLICY, "script-src": f"'self' 'nonce-{nonce}'"}


def test_an_htmx_partial_has_the_exact_policy(staff_client):
    # A fragment holds no <script>, so nothing reads the nonce and the header carries none; the
    # policy that governs the page is the full page's, and frame-ancestors still applies here.
    response = staff_client.get("/calls/?tz=UTC", **HTMX_PARTIAL)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert directives(response) == POLICY


def test_no_policy_allows_inline_code_or_eval(staff_client):
    for response in (
        staff_client.get("/calls/?tz=UTC"),
        staff_client.get("/calls/?tz=UTC", **HTMX_PARTIAL),
    ):
        header = response["Content-Security-Policy"]
        assert "unsafe-inline" not in header
        assert "unsafe-eval" not in header


@pytest.mark.parametrize("htmx", [{}, HTMX_PARTIAL], ids=["page", "htmx-partial"])
def test_pages_may_not_be_framed(staff_client, htmx):
    response = staff_client.get("/calls/?tz=UTC", **htmx)
    assert response["X-Frame-Options"] == "DENY"
    assert directives(response)["frame-ancestors"] == "'none'"


def test_transcripts_and_audio_are_never_stored_by_browsers_or_proxies(
    staff_client, frozen_simulator
):
    call = recorded_call(frozen_simulator)
    for path in (
        f"/calls/{call.id}/",
        f"/calls/{call.id}/transcript.txt",
        f"/calls/{call.id}/recording",
    ):
        response = staff_client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "private, no-store", path


def csrf_token_from_body(html: str) -> str:
    """The token htmx sends: the X-CSRFToken in `hx-headers` on <body>."""
    (token,) = re.findall(r"<body hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    return token


def test_a_post_without_the_csrf_token_is_refused(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    client.get("/calls/?tz=UTC")
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    assert client.get("/calls/?tz=UTC").status_code == 200, "still signed in"


def test_a_post_with_the_token_htmx_sends_from_hx_headers_is_accepted(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    token = csrf_token_from_body(client.get("/calls/?tz=UTC").content.decode())
    response = client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/calls/").status_code == 302, "signed out"


# --- Production settings --------------------------------------------------------------------

SECURITY_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
}


def production(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run python with production settings: DEBUG off, a fresh key, a real host name."""
    clean = {k: v for k, v in os.environ.items() if k not in SECURITY_VARIABLES}
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "truedy_dashboard.settings",
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "dashboard.example.com",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_deployment_checklist_passes_with_production_settings(collected_static):
    result = production(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        STATIC_ROOT=str(collected_static),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name) for name in (
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_AGE")}))
"""


def test_production_defaults_are_https_only():
    result = production("-c", SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 86400,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_AGE": 12 * 3600,
    }


def test_production_settings_can_be_set_from_the_environment():
    result = production(
        "-c",
        SHOW_SETTINGS,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO",
        SESSION_COOKIE_AGE="28800",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_HSTS_SECONDS"] == 3600
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["SESSION_COOKIE_AGE"] == 28800
    assert shown["SESSION_COOKIE_SECURE"] is True


def test_development_serves_plain_http(settings):
    # The settings were loaded with DEBUG=true, like `make run` (pytest-django then switches
    # DEBUG itself off): no redirect to https, no HSTS, no Secure cookies.
    assert not settings.SECURE_SSL_REDIRECT
    assert settings.SECURE_HSTS_SECONDS == 0
    assert not settings.SESSION_COOKIE_SECURE
    assert not settings.CSRF_COOKIE_SECURE
