"""Signing in and out: session rotation and revocation, cookie attributes, and the
brute-force lockout of django-axes."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone

# Also run on PostgreSQL and Redis by `make test` (test-shared-backends).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

LOGIN = "/accounts/login/"
PASSWORD = "correct horse battery staple"  # the staff_user fixture's


def sign_in(client: Client, username: str = "ops", password: str = PASSWORD, **extra: str):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- Sessions ---------------------------------------------------------------------------------


def test_signing_in_gives_a_new_session_key(client, staff_user):
    before = client.session  # an anonymous session, as a visitor might already have
    before["seen"] = True
    before.save()
    old_key = before.session_key
    assert session_key(client) == old_key
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/calls/"
    assert session_key(client) != old_key
    assert not SessionStore().exists(old_key), "the pre-login session is gone from the server"
    assert client.session["seen"] is True, "its contents were carried over"


def test_signing_in_rotates_the_csrf_token(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    old_token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(
        LOGIN, {"username": "ops", "password": PASSWORD, "csrfmiddlewaretoken": old_token}
    )
    assert response.status_code == 302
    new_token = response.cookies[settings.CSRF_COOKIE_NAME].value
    assert new_token and new_token != old_token


def test_signing_out_ends_the_session_on_the_server(client, staff_user):
    sign_in(client)
    old_key = session_key(client)
    assert client.get("/calls/?tz=UTC").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not SessionStore().exists(old_key)
    # Someone who kept a copy of the old cookie gets nothing.
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = replay.get("/calls/?tz=UTC")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_session_cookie_is_httponly_lax_and_lasts_one_shift(client, staff_user):
    response = sign_in(client)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""
    assert cookie["max-age"] == 12 * 3600
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"


def test_in_production_both_cookies_are_secure(client, staff_user, settings):
    # Production's values (test_security_headers checks they are its defaults), over https.
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    response = sign_in(client, secure=True)
    header = str(response.cookies)
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
        (line,) = [line for line in header.splitlines() if f" {name}=" in line]
        attributes = {part.strip().split("=")[0].lower() for part in line.split(";")}
        assert {"httponly", "secure", "samesite", "path"} <= attributes, line
        assert "SameSite=Lax" in line


# --- Brute force ------------------------------------------------------------------------------


def fail(client: Client, times: int, username: str = "ops", **extra: str) -> list[int]:
    return [sign_in(client, username, "wrong password", **extra).status_code for _ in range(times)]


def test_the_fifth_wrong_password_locks_the_username_out(client, staff_user):
    assert fail(client, 4) == [200, 200, 200, 200]  # the form again, with its error
    response = sign_in(client, "ops", "wrong password")
    assert response.status_code == 429
    attempt = AccessAttempt.objects.get(username="ops")
    assert attempt.failures_since_start == 5
    assert attempt.ip_address == "127.0.0.1"


def test_the_right_password_is_refused_during_the_lockout(client, staff_user):
    fail(client, 5)
    response = sign_in(client)
    assert response.status_code == 429
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert client.get("/calls/").status_code == 302, "not signed in"


def test_the_lockout_page_says_when_to_try_again(client, staff_user):
    fail(client, 4)
    response = sign_in(client, "ops", "wrong password")
    html = response.content.decode()
    assert response.status_code == 429
    assert "Sign-in paused" in html
    assert "Try again in 15 minutes." in html
    assert "<strong>ops</strong>" in html
    assert 'href="/accounts/login/"' in html
    assert response["Content-Security-Policy"], "a full page like any other"


def test_the_right_password_works_after_the_cool_off(client, staff_user):
    fail(client, 5)
    # The cool-off counts from the last attempt: move that attempt 15 minutes into the past.
    attempt = AccessAttempt.objects.get(username="ops")
    attempt.attempt_time -= timedelta(minutes=15, seconds=1)
    attempt.save()
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == "/calls/"
    assert not AccessAttempt.objects.filter(username="ops").exists(), "reset on success"


def test_a_lockout_holds_one_username_from_one_address_only(client, staff_user, django_user_model):
    django_user_model.objects.create_user(username="lee", password=PASSWORD, is_staff=True)
    fail(client, 5)
    # Anyone can type a staff username: that must not lock its owner out everywhere.
    assert sign_in(Client(), REMOTE_ADDR="192.0.2.7").status_code == 302
    assert sign_in(Client(), "lee").status_code == 302


def test_the_failure_limit_comes_from_settings(client, staff_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert fail(client, 2) == [200, 429]


def test_failures_during_a_lockout_do_not_make_it_longer(client, staff_user, time_machine):
    """One wrong password every 14 minutes must not keep a known staff name locked for ever."""
    time_machine.move_to(timezone.now(), tick=False)
    fail(client, 5)
    for _ in range(3):
        time_machine.shift(timedelta(minutes=4))
        assert fail(client, 1) == [429]
    time_machine.shift(timedelta(minutes=3, seconds=1))  # 15 min after the fifth failure
    assert sign_in(client).status_code == 302


BALANCER = "10.0.0.2"


def through_the_balancer(client_address: str, forwarded: str = "") -> dict[str, str]:
    """What a request carries behind one load balancer that appends to X-Forwarded-For."""
    hops = f"{forwarded}, {client_address}" if forwarded else client_address
    return {"REMOTE_ADDR": BALANCER, "HTTP_X_FORWARDED_FOR": hops}


def test_behind_the_balancer_the_lockout_holds_the_clients_address_only(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client()
    assert fail(attacker, 5, **through_the_balancer("198.51.100.9"))[-1] == 429
    # The same name from another client, through the same balancer, still signs in.
    assert sign_in(Client(), **through_the_balancer("203.0.113.5")).status_code == 302
    assert AccessAttempt.objects.get(username="ops").ip_address == "198.51.100.9"


def test_an_invented_forwarded_address_does_not_escape_the_lockout(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = Client()
    statuses = [
        sign_in(
            attacker, "ops", "wrong", **through_the_balancer("198.51.100.9", forwarded=f"1.2.3.{n}")
        ).status_code
        for n in range(6)
    ]
    assert statuses[-2:] == [429, 429]


def test_without_trusted_proxies_forwarded_headers_are_ignored(staff_user, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    fail(Client(), 5, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert AccessAttempt.objects.get(username="ops").ip_address == "127.0.0.1"


def test_one_address_trying_many_names_is_paused_too(staff_user, settings, django_user_model):
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    sprayer = Client()
    statuses = [sign_in(sprayer, f"name{n}", "guess").status_code for n in range(6)]
    assert statuses == [200] * 6  # no single name reached axes' limit
    response = sign_in(sprayer)  # even the right password, from this address
    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert sign_in(Client(), REMOTE_ADDR="192.0.2.8").status_code == 302  # others are not
