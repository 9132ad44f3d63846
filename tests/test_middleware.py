"""The viewer's time zone: from the link, else the browser's cookie, else TIME_ZONE."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "cookie", ["../../etc/passwd", "Mars/Olympus", "", "Europe%2FBerlin", "x" * 5000]
)
def test_a_bad_zone_cookie_is_ignored(staff_client, frozen_simulator, settings, cookie):
    settings.TIME_ZONE = "UTC"
    staff_client.cookies["tz"] = cookie
    response = staff_client.get("/calls/?per_page=10")
    assert response.status_code == 200
    assert "times in UTC" in response.content.decode()


def test_the_zone_applies_to_the_call_page_too(staff_client, frozen_simulator):
    call = staff_client.get("/calls/?per_page=10").context["calls"][-1]
    staff_client.cookies["tz"] = "Asia/Tokyo"
    html = staff_client.get(f"/calls/{call.id}/").content.decode()
    from zoneinfo import ZoneInfo

    local = call.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local.strftime("%Y-%m-%d %H:%M:%S") in html
    assert "<dd>Asia/Tokyo</dd>" in html


def test_the_page_tells_the_browser_script_which_zone_it_used(staff_client, frozen_simulator):
    staff_client.cookies["tz"] = "America/Sao_Paulo"
    html = staff_client.get("/calls/?per_page=10").content.decode()
    assert 'data-zone="America/Sao_Paulo"' in html
    assert "/static/js/timezone.js" in html
