"""The audit log: views, plays, transcript downloads and sign-ins become rows that are never
changed, read by superusers only, and never hold a secret; writing one never breaks a page."""

import json
import logging
import re
from html import unescape

import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from calls.models import AuditAction, AuditEvent, AuditLogIsAppendOnly
from calls.services import audit
from tests.conftest import upstream_paths
from tests.views.test_call_detail import an_ended_call_with_turns
from tests.views.test_recording import body, recorded_call

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
SECRETS = ("Signature=", "X-Amz-", "Expires=", "truedy_", PASSWORD)


def events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


def values(event: AuditEvent) -> str:
    fields = ("username", "call_id", "detail", "ip", "user_agent")
    return " ".join(str(getattr(event, name) or "") for name in fields)


# --- plays ----------------------------------------------------------------------------------


def test_the_players_beacon_writes_one_play_row(staff_client, staff_user, simulator):
    call_id = "3f1c2a9e-0000-4000-8000-000000000001"
    response = staff_client.post(
        f"/calls/{call_id}/played", HTTP_USER_AGENT="Mozilla/5.0 (X11) Chromium/131"
    )
    assert response.status_code == 204
    [event] = events("play_recording")
    assert (event.user, event.username, event.call_id) == (staff_user, "ops", call_id)
    assert (event.detail, event.status, event.ip) == ("", 204, "127.0.0.1")
    assert event.user_agent == "Mozilla/5.0 (X11) Chromium/131"
    assert event.at.utcoffset().total_seconds() == 0, "stored in UTC"
    assert upstream_paths(simulator) == [], "a play note asks Truedy nothing"


def test_range_requests_for_the_recording_are_one_row_per_window(
    staff_client, staff_user, frozen_simulator
):
    """A player fetches one listen in many ranges: audio that left is audited, once."""
    call = recorded_call(frozen_simulator)
    for byte_range in ("bytes=0-", "bytes=1000-1999", "bytes=-500", "bytes=0-0"):
        response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE=byte_range)
        body(response)
        assert response.status_code == 206
    [event] = events("play_recording")
    assert (event.user, event.call_id, event.detail, event.status) == (
        staff_user,
        call.id,
        "stream",
        206,
    )


def test_a_bytes_0_range_alone_is_audited(staff_client, frozen_simulator):
    """`Range: bytes=0-` is the whole file: it used to pass as a player's range, unaudited."""
    call = recorded_call(frozen_simulator)
    response = staff_client.get(f"/calls/{call.id}/recording", HTTP_RANGE="bytes=0-")
    assert body(response) == call.recording.path.read_bytes()
    assert len(events("play_recording", call_id=call.id)) == 1


def test_a_download_without_range_is_one_play_row_and_holds_no_secret(
    staff_client, staff_user, frozen_simulator
):
    call = recorded_call(frozen_simulator)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert body(response) == call.recording.path.read_bytes()
    [event] = events("play_recording")
    assert (event.user, event.call_id, event.detail, event.status) == (
        staff_user,
        call.id,
        "download",
        200,
    )
    assert not any(secret in values(event) for secret in SECRETS)


def test_a_recording_that_cannot_be_played_writes_no_row(staff_client, frozen_simulator):
    call = recorded_call(frozen_simulator)
    frozen_simulator.switches.refuse_recordings_next(50)
    assert staff_client.get(f"/calls/{call.id}/recording").status_code == 410
    frozen_simulator.switches.reset()
    assert events("play_recording") == []


def test_the_play_note_needs_the_csrf_token(staff_user, simulator):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)
    browser.get("/accounts/login/")  # any page with a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    url = "/calls/3f1c2a9e-0000-4000-8000-000000000001/played"

    assert browser.post(url).status_code == 403
    assert events("play_recording") == []
    assert browser.post(url, HTTP_X_CSRFTOKEN=token).status_code == 204
    assert len(events("play_recording")) == 1


def test_only_signed_in_staff_can_note_a_play(client, django_user_model):
    url = "/calls/3f1c2a9e-0000-4000-8000-000000000001/played"
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    visitor = django_user_model.objects.create_user(username="visitor", password="x" * 20)
    client.force_login(visitor)
    assert client.post(url).status_code == 403
    assert events("play_recording") == []


def test_the_play_note_is_post_only(staff_client, simulator):
    assert staff_client.get("/calls/3f1c2a9e/played").status_code == 405
    assert events("play_recording") == []


@pytest.mark.parametrize("call_id", ["a.b", "%2E%2E", "a%3Fx=1", "a%23b", "x" * 65, "%C3%A9"])
def test_a_play_note_for_a_malformed_id_is_a_404_without_upstream_request(
    staff_client, simulator, call_id
):
    assert staff_client.post(f"/calls/{call_id}/played").status_code == 404
    assert upstream_paths(simulator) == []
    assert events("play_recording") == []


# --- views and transcripts --------------------------------------------------------------------


def test_opening_a_call_writes_a_view_row(staff_client, staff_user, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    assert staff_client.get(f"/calls/{call_id}/").status_code == 200
    [event] = events("view_call")
    assert (event.user, event.call_id) == (staff_user, call_id)


@pytest.mark.parametrize("target", ["call", "transcript"])
def test_a_fragment_asked_for_by_hand_is_a_view_too(staff_client, frozen_simulator, target):
    """htmx headers are the client's to choose: a fragment carries the transcript too."""
    call_id = an_ended_call_with_turns(frozen_simulator)
    response = staff_client.get(f"/calls/{call_id}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target)
    assert response.status_code == 200
    assert len(events("view_call", call_id=call_id)) == 1


def test_views_of_one_call_are_one_row_per_window(staff_client, frozen_simulator, time_machine):
    time_machine.move_to(timezone.now())
    call_id = an_ended_call_with_turns(frozen_simulator)
    for _ in range(3):
        staff_client.get(f"/calls/{call_id}/")
    assert len(events("view_call", call_id=call_id)) == 1
    time_machine.shift(settings.AUDIT_DEDUPE_SECONDS + 1)
    staff_client.get(f"/calls/{call_id}/")
    assert len(events("view_call", call_id=call_id)) == 2


def poll_headers_on(page) -> dict[str, str]:
    match = re.search(r'hx-headers="([^"]+)"', page.content.decode())
    assert match, "the page polls with its token"
    return {
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in json.loads(unescape(match[1])).items()
    }


def test_the_pages_own_polls_are_not_views_but_a_forged_token_is(
    staff_client, frozen_simulator, time_machine
):
    from tests.views.test_call_detail import LIVE

    time_machine.move_to(timezone.now())
    page = staff_client.get(f"/calls/{LIVE}/")
    headers = poll_headers_on(page)
    assert len(events("view_call", call_id=LIVE)) == 1
    time_machine.shift(settings.AUDIT_DEDUPE_SECONDS + 1)  # past the window: only the token
    poll = staff_client.get(
        f"/calls/{LIVE}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="call", **headers
    )
    assert poll.status_code == 200
    assert len(events("view_call", call_id=LIVE)) == 1
    forged = {"HTTP_X_POLL_TOKEN": headers["HTTP_X_POLL_TOKEN"][:-2] + "xx"}
    staff_client.get(f"/calls/{LIVE}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="call", **forged)
    assert len(events("view_call", call_id=LIVE)) == 2


def test_a_poll_token_holds_for_its_own_user_and_call_only(
    staff_client, frozen_simulator, django_user_model
):
    from tests.views.test_call_detail import LIVE

    headers = poll_headers_on(staff_client.get(f"/calls/{LIVE}/"))
    other_call = an_ended_call_with_turns(frozen_simulator)
    staff_client.get(f"/calls/{other_call}/", **headers)
    assert len(events("view_call", call_id=other_call)) == 1
    colleague = Client()
    colleague.force_login(
        django_user_model.objects.create_user(username="lee", password="x" * 20, is_staff=True)
    )
    colleague.get(f"/calls/{LIVE}/", **headers)
    assert len(events("view_call", call_id=LIVE)) == 2


def test_downloading_a_transcript_writes_a_row(staff_client, staff_user, frozen_simulator):
    call_id = an_ended_call_with_turns(frozen_simulator)
    assert staff_client.get(f"/calls/{call_id}/transcript.txt").status_code == 200
    [event] = events("download_transcript")
    assert (event.user, event.call_id, event.status) == (staff_user, call_id, 200)


def test_a_transcript_that_is_not_there_writes_no_row(staff_client, frozen_simulator):
    assert staff_client.get("/calls/call_doesnotexist0000/transcript.txt").status_code == 404
    assert events("download_transcript") == []


# --- signing in and out -------------------------------------------------------------------------


def test_signing_in_and_out_is_recorded(client, staff_user):
    response = client.post("/accounts/login/", {"username": "ops", "password": PASSWORD})
    assert response.status_code == 302
    [signed_in] = events("sign_in")
    assert (signed_in.user, signed_in.username, signed_in.ip) == (staff_user, "ops", "127.0.0.1")

    assert client.post("/accounts/logout/").status_code == 302
    [signed_out] = events("sign_out")
    assert (signed_out.user, signed_out.username) == (staff_user, "ops")


def test_a_failed_sign_in_keeps_the_name_typed_and_never_the_password(client, staff_user):
    response = client.post("/accounts/login/", {"username": "ops", "password": "guess" + PASSWORD})
    assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "nobody", "password": PASSWORD})
    assert response.status_code == 200
    failed = events("sign_in_failed")
    assert sorted(event.username for event in failed) == ["nobody", "ops"]
    assert all(event.user is None for event in failed), "no account is tied to a failure"
    assert events("sign_in") == []
    for event in failed:
        assert "guess" not in values(event)
        assert not any(secret in values(event) for secret in SECRETS)


# --- append-only ----------------------------------------------------------------------------


@pytest.fixture
def event(staff_user) -> AuditEvent:
    return AuditEvent.objects.create(
        user=staff_user, username="ops", action=AuditAction.VIEW_CALL, call_id="abc"
    )


def test_an_event_cannot_be_changed(event):
    event.call_id = "other"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(call_id="other")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["call_id"])
    # A copy with the same primary key is an insert, which the database refuses.
    copy = AuditEvent(pk=event.pk, username="ops", action="view_call", call_id="other")
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert AuditEvent.objects.get(pk=event.pk).call_id == "abc"


def test_an_event_cannot_be_deleted(event, staff_user):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # Nor through its user: an account with a trail is deactivated, not deleted.
    with pytest.raises(Exception, match="protected"):
        staff_user.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_every_action_has_a_name_and_an_unknown_one_is_a_bug(rf, staff_user):
    assert {"view_call", "play_recording", "download_transcript", "export_csv"} <= set(
        AuditAction.values
    )
    request = rf.get("/")
    request.user = staff_user
    audit.record(request, "export_csv", detail="status=failed&agent_id=a1", status=200)
    assert events("export_csv")[0].detail == "status=failed&agent_id=a1"
    with pytest.raises(ValueError):
        audit.record(request, "listened")


# --- failures never reach the page ------------------------------------------------------------


def test_a_database_failure_is_logged_and_the_page_still_works(
    staff_client, frozen_simulator, monkeypatch, caplog
):
    def broken(**kwargs):
        raise DatabaseError("the audit table is unreachable")

    monkeypatch.setattr(AuditEvent.objects, "create", broken)
    call_id = an_ended_call_with_turns(frozen_simulator)
    hostile = "Mozilla/5.0\nFAKE 2026-01-01 INFO audit all is well"
    with caplog.at_level(logging.ERROR, logger="calls.audit"):
        download = staff_client.get(f"/calls/{call_id}/transcript.txt", HTTP_USER_AGENT=hostile)
        played = staff_client.post(f"/calls/{call_id}/played", HTTP_USER_AGENT=hostile)
        page = staff_client.get(f"/calls/{call_id}/")
    assert (download.status_code, played.status_code, page.status_code) == (200, 204, 200)
    messages = [record.getMessage() for record in caplog.records]
    assert "Could not write the audit event download_transcript" in messages
    assert "Could not write the audit event play_recording" in messages
    assert not any("FAKE" in message or call_id in message for message in messages), (
        "the row's values never go into a log line"
    )


def test_a_long_user_agent_is_cut_to_200_characters(staff_client):
    staff_client.post("/calls/abc/played", HTTP_USER_AGENT="A" * 1000)
    assert events("play_recording")[0].user_agent == "A" * 200


# --- the admin --------------------------------------------------------------------------------


def test_only_superusers_read_the_log_in_the_admin(client, django_user_model, event):
    staff = django_user_model.objects.create_user(username="lead", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/calls/auditevent/").status_code == 403
    assert client.get(f"/admin/calls/auditevent/{event.pk}/change/").status_code == 403
    assert b"auditevent" not in client.get("/admin/").content

    boss = django_user_model.objects.create_superuser(username="boss", password="x")
    client.force_login(boss)
    listing = client.get("/admin/calls/auditevent/?q=abc")
    assert listing.status_code == 200
    assert b"abc" in listing.content
    assert b"Viewed a call" in listing.content
    assert client.get("/admin/calls/auditevent/?action__exact=sign_in").status_code == 200
    detail = client.get(f"/admin/calls/auditevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content, "read-only, even for a superuser"
    assert client.get("/admin/calls/auditevent/add/").status_code == 403
    assert client.get(f"/admin/calls/auditevent/{event.pk}/delete/").status_code == 403
    assert b"delete_selected" not in listing.content
    assert AuditEvent.objects.filter(pk=event.pk).exists()
