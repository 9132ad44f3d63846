"""The first page, through Django's test client, against the embedded simulator."""

import pytest
from django.core.management import call_command

from calls.simulator import DEFAULT_API_KEY, Simulator, serve
from calls.upstream import gateway

pytestmark = pytest.mark.django_db


def test_root_redirects_to_the_call_list(staff_client):
    response = staff_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/calls/"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/calls/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/calls/"


def test_login_page_renders_a_form(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_signing_in_shows_simulator_calls(client, staff_user, simulator):
    response = client.post(
        "/accounts/login/",
        {"username": "ops", "password": "correct horse battery staple", "next": "/calls/"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/calls/"
    assert b"Showing 1\xe2\x80\x9325 of" in response.content


def test_call_list_shows_real_simulator_data(staff_client, simulator):
    response = staff_client.get("/calls/")
    assert response.status_code == 200
    page = response.context["calls"]
    assert len(page) == 25
    total = response.context["total"]
    assert f"of {total:,} calls" in response.content.decode()
    first = page[0]
    assert first.id in {c.id for c in gateway.get_client().list_calls(limit=25).calls}


def test_second_page_starts_after_the_first(staff_client, simulator):
    first = staff_client.get("/calls/").context["calls"]
    second = staff_client.get("/calls/?page=2").context["calls"]
    assert not {c.id for c in first} & {c.id for c in second}
    assert "Showing 26\N{EN DASH}50" in staff_client.get("/calls/?page=2").content.decode()


def test_upstream_failure_shows_a_friendly_page_with_the_request_id(staff_client, simulator):
    simulator.switches.fail_next(10, status=500)
    try:
        response = staff_client.get("/calls/")
    finally:
        simulator.switches.reset()
    assert response.status_code == 502
    assert b"Truedy could not be reached" in response.content
    assert b"req_" in response.content


def test_a_key_switches_to_the_configured_api_over_http(staff_client, settings):
    """With TRUEDY_API_KEY set, the dashboard speaks HTTP to TRUEDY_API_BASE_URL; nothing else."""
    remote = Simulator(seed=99, call_count=300)
    server = serve(remote, host="127.0.0.1", port=0)
    settings.TRUEDY_API_KEY = DEFAULT_API_KEY
    settings.TRUEDY_API_BASE_URL = server.base_url
    gateway.reset()
    try:
        response = staff_client.get("/calls/")
    finally:
        gateway.reset()
        server.shutdown()
    assert response.status_code == 200
    assert response.context["total"] == remote_total(remote)
    assert remote.requests, "the dashboard did not call the configured base URL"


def remote_total(sim: Simulator) -> int:
    import httpx

    with httpx.Client(transport=sim.transport(), base_url="http://x/api/public/v1") as http:
        body = http.get(
            "calls", params={"limit": 1}, headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"}
        )
    return body.json()["meta"]["total"]


def test_seed_demo_user_creates_a_staff_login(django_user_model, capsys):
    call_command("seed_demo_user", password="a-demo-password-123")
    user = django_user_model.objects.get(username="demo")
    assert user.is_staff
    assert user.check_password("a-demo-password-123")
    assert "a-demo-password-123" in capsys.readouterr().out


def test_seed_demo_user_refuses_on_a_real_account(settings):
    from django.core.management.base import CommandError

    settings.TRUEDY_API_KEY = "truedy_" + "r" * 32
    with pytest.raises(CommandError, match="real Truedy account"):
        call_command("seed_demo_user")
