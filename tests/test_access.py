"""Only signed-in staff see anything, and no response carries the API key, an agent's system
prompt or a signed recording link."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from calls.simulator import Simulator, serve
from calls.upstream import gateway
from tests.views.test_call_detail import ENDED_5S_AGO, LIVE, an_ended_call_with_turns
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

SAMPLE_CALL = "call_doesnotexist000000000000"
DASHBOARD_URLS = [
    "/calls/",
    "/calls/?status=failed&page=2",
    "/calls/export.csv?status=failed",
    "/calls/recordings.zip?status=failed",
    "/calls/totals/?status=failed",
    "/calls/live/?status=failed",
    "/calls/time-zones/0.json",
    "/calls/saved-views/",
    "/calls/saved-views/1/delete",
    "/calls/agreement/",
    "/calls/notes/1/",
    "/calls/notes/1/resolve",
    "/for-you/",
    "/scorecards/",
    "/scorecards/new",
    "/scorecards/1/",
    "/scorecards/1/edit",
    "/scorecards/1/retire",
    "/agents/?created_after=2026-11-01",
    "/agents/export.csv?created_after=2026-11-01",
    "/alerts/",
    "/alerts/1/acknowledge",
    "/alerts/1/resolve",
    "/alerts/deliveries/1/retry",
    "/alerts/rules/",
    "/alerts/rules/new",
    "/alerts/rules/1/edit",
    "/calls/?alert=1",
    "/campaigns/",
    "/campaigns/cmp_doesnotexist/",
    "/calls/?campaign=cmp_doesnotexist",
    "/calls/review/start?status=failed",
    "/calls/review/done?status=failed&queue=1",
    "/calls/review/sample",
    f"/calls/{SAMPLE_CALL}/",
    f"/calls/{SAMPLE_CALL}/recording",
    f"/calls/{SAMPLE_CALL}/transcript.txt",
    f"/calls/{SAMPLE_CALL}/transcript.json",
    f"/calls/{SAMPLE_CALL}/played",
    f"/calls/{SAMPLE_CALL}/reveal",
    f"/calls/{SAMPLE_CALL}/review",
    f"/calls/{SAMPLE_CALL}/review/skip",
    f"/calls/{SAMPLE_CALL}/outcome",
    f"/calls/{SAMPLE_CALL}/notes/",
    f"/calls/{SAMPLE_CALL}/scorecard",
    "/background/",
    "/background/failed/task-1/retry",
]
OPEN_URLS = {"accounts/login/"}  # django.contrib.auth's own views that must stay reachable
# Open to anyone on purpose: the load balancer's probe (tests/test_health.py: no data in it).
ANONYMOUS_URLS = ["/healthz"]


def test_every_dashboard_url_is_covered_here():
    """A new URL pattern must be added to DASHBOARD_URLS (and so to the tests below)."""
    ours = [
        str(p.pattern) for p in get_resolver("calls.urls").url_patterns if isinstance(p, URLPattern)
    ]
    assert ours == [
        "",
        "background/",
        "background/failed/<str:task_id>/retry",
        "calls/",
        "calls/export.csv",
        "calls/recordings.zip",
        "calls/totals/",
        "calls/live/",
        "calls/time-zones/<str:version>.json",
        "calls/saved-views/",
        "calls/saved-views/<int:view_id>/delete",
        "calls/agreement/",
        "calls/notes/<int:note_id>/",
        "calls/notes/<int:note_id>/resolve",
        "for-you/",
        "scorecards/",
        "scorecards/new",
        "scorecards/<int:scorecard_id>/",
        "scorecards/<int:scorecard_id>/edit",
        "scorecards/<int:scorecard_id>/retire",
        "agents/",
        "agents/export.csv",
        "alerts/",
        "alerts/<int:issue_id>/acknowledge",
        "alerts/<int:issue_id>/resolve",
        "alerts/deliveries/<int:delivery_id>/retry",
        "alerts/rules/",
        "alerts/rules/new",
        "alerts/rules/<int:rule_id>/edit",
        "campaigns/",
        "campaigns/<str:campaign_id>/",
        "calls/review/start",
        "calls/review/done",
        "calls/review/sample",
        "calls/<str:call_id>/",
        "calls/<str:call_id>/recording",
        "calls/<str:call_id>/transcript.txt",
        "calls/<str:call_id>/transcript.json",
        "calls/<str:call_id>/played",
        "calls/<str:call_id>/reveal",
        "calls/<str:call_id>/review",
        "calls/<str:call_id>/review/skip",
        "calls/<str:call_id>/outcome",
        "calls/<str:call_id>/notes/",
        "calls/<str:call_id>/scorecard",
    ]
    included = [str(p.pattern) for p in get_resolver().url_patterns if isinstance(p, URLResolver)]
    assert sorted(included) == ["", "admin/"]
    direct = [str(p.pattern) for p in get_resolver().url_patterns if isinstance(p, URLPattern)]
    assert direct == [
        "accounts/login/",
        "accounts/logout/",
        "healthz",
        "webhooks/truedy",
    ], "no password-reset views"


@pytest.mark.parametrize("url", ["/", *DASHBOARD_URLS])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url", DASHBOARD_URLS)
def test_signed_in_users_who_are_not_staff_are_refused(client, django_user_model, url):
    user = django_user_model.objects.create_user(username="visitor", password="x" * 20)
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 403
    assert "Staff only" in response.content.decode()


@pytest.mark.parametrize("url", ANONYMOUS_URLS)
def test_the_health_check_is_open_and_shows_no_data(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert set(body) <= {"status", "checks", "truedy", "background", "archive"}
    # Times and counts only: no call, number or transcript.
    assert "call" not in str(body.get("archive", {})).replace("calls", "")


def test_the_webhook_receiver_is_open_but_takes_only_signed_posts(client):
    """No sign-in (Truedy has none): the signature is the check (tests/test_webhooks.py)."""
    assert client.get("/webhooks/truedy").status_code == 405
    unsigned = client.post("/webhooks/truedy", b"{}", content_type="application/json")
    assert unsigned.status_code == 401


def test_the_login_page_is_open_and_styled(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="login"' in html
    assert 'autocomplete="current-password"' in html
    assert "/static/css/app.css" in html


def test_signing_in_and_out(client, staff_user, frozen_simulator):
    signed_in = client.post(
        "/accounts/login/",
        {"username": "ops", "password": "correct horse battery staple", "next": "/calls/"},
    )
    assert signed_in["Location"] == "/calls/"
    assert client.get("/calls/").status_code == 200
    assert "Sign out" in client.get("/calls/").content.decode()
    signed_out = client.post("/accounts/logout/")
    assert signed_out.status_code == 302
    assert client.get("/calls/").status_code == 302


def test_a_signed_in_user_who_is_not_staff_can_still_sign_out(client, django_user_model):
    user = django_user_model.objects.create_user(username="guest", password="pw-guest-123")
    client.force_login(user)
    assert client.get("/calls/").status_code == 403
    signed_out = client.post("/accounts/logout/")
    assert signed_out.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/calls/").status_code == 302  # to sign in: the session is gone


@pytest.mark.parametrize(
    "url",
    ["/calls/", "/calls/?status=ended", "/calls/totals/", "/calls/no_such_call/", "/admin/"],
)
def test_every_signed_in_page_is_private_and_never_stored(staff_client, frozen_simulator, url):
    directives = {d.strip() for d in staff_client.get(url)["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives  # the admin says more, itself


def test_a_refused_non_staff_page_is_not_stored_either(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="guest2", password="x"))
    response = client.get("/calls/")
    assert response.status_code == 403
    assert response["Cache-Control"] == "private, no-store"


def test_a_wrong_password_is_refused_with_a_message(client, staff_user):
    response = client.post("/accounts/login/", {"username": "ops", "password": "nope"})
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


SENTINEL_KEY = "truedy_SENTINELkeyMUSTneverLEAK0123456789"


def test_no_response_carries_the_key_a_system_prompt_or_a_signed_link(
    staff_client, settings, frozen_simulator
):
    """Real-key mode over HTTP with a sentinel key; every page and fragment is swept."""
    remote = Simulator(
        seed=42, call_count=2000, now=frozen_simulator.clock.now(), api_key=SENTINEL_KEY
    )
    server = serve(remote, host="127.0.0.1", port=0)
    settings.TRUEDY_API_KEY = SENTINEL_KEY
    settings.TRUEDY_API_BASE_URL = server.base_url
    gateway.reset()
    prompts = [agent.system_prompt for agent in remote.data.agents]
    try:
        ended = an_ended_call_with_turns(remote)
        recorded = recorded_call(remote).id
        urls = [
            "/calls/",
            "/calls/?status=bogus",
            "/calls/?page=999",
            f"/calls/{ended}/",
            f"/calls/{ended}/transcript.txt",
            f"/calls/{ended}/transcript.json",
            "/calls/export.csv?status=failed&direction=inbound",
            f"/calls/{recorded}/",
            f"/calls/{recorded}/recording",
            f"/calls/{ENDED_5S_AGO}/",
            f"/calls/{LIVE}/",
            f"/calls/{SAMPLE_CALL}/",
        ]
        fragments = [
            ("/calls/?status=ended", "results"),
            (f"/calls/{LIVE}/", "call"),
            (f"/calls/{ENDED_5S_AGO}/", "transcript"),
        ]
        responses = [staff_client.get(url) for url in urls]
        responses += [
            staff_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
            for url, target in fragments
        ]
        remote.switches.fail_next(10, status=500)
        responses.append(staff_client.get("/calls/?status=cancelled"))
        remote.switches.reset()
        # Streams are read while the upstream is still up.
        bodies = [b"".join(r.streaming_content) if r.streaming else r.content for r in responses]
    finally:
        gateway.reset()
        server.shutdown()
    assert remote.requests, "the dashboard did not use the configured API"
    assert [r.status_code for r in responses] == [
        200,
        400,
        404,
        200,
        200,
        200,  # transcript.json
        200,  # export.csv
        200,
        200,
        200,
        200,
        404,
        200,
        200,
        200,
        502,
    ]
    for response, content in zip(responses, bodies, strict=True):
        text = content.decode("utf-8", errors="replace")
        headers = str(response.headers)
        assert SENTINEL_KEY not in text and SENTINEL_KEY not in headers
        assert "signature=" not in text and "signature=" not in headers
        for prompt in prompts:
            assert prompt[:60] not in text
