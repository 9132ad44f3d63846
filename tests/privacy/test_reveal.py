"""Revealing one call's personal data: a permission, a reason, a short while, an audit row."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.utils import timezone

from calls.models import AuditAction, AuditEvent, AuditLogIsAppendOnly, PersonalDataReveal
from tests.privacy.test_masking import CARD, EMAIL, PII_CALL_ID, archive_pii, leaked
from tests.reviews.conftest import person, signed_in

pytestmark = pytest.mark.django_db

REASON = "Customer asked for a refund to this card (ticket 8812)"


@pytest.fixture
def archived_pii(frozen_simulator):
    return archive_pii()


@pytest.fixture
def viewer_client(django_user_model):
    return signed_in(person(django_user_model, "vic", "Viewer"))


@pytest.fixture
def admin_user(django_user_model):
    return person(django_user_model, "ada", "Admin")


@pytest.fixture
def masked_admin(admin_user, settings):
    """An Admin for whom masking applies too: the one who needs to reveal."""
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Admin"]
    return signed_in(admin_user)


def reveal(client, reason=REASON, call_id=PII_CALL_ID):
    return client.post(f"/calls/{call_id}/reveal", {"reason": reason})


def test_an_allowed_user_sees_the_form_and_the_page_masked(masked_admin, archived_pii):
    html = masked_admin.get(f"/calls/{PII_CALL_ID}/").content.decode()
    assert leaked(html) == []
    assert 'action="/calls/call_pii_0001/reveal"' in html
    assert 'name="reason"' in html and "required" in html


def test_a_reveal_shows_the_originals_until_it_ends(masked_admin, admin_user, archived_pii):
    response = reveal(masked_admin)
    assert response.status_code == 303
    assert response["Location"] == f"/calls/{PII_CALL_ID}/"
    made = PersonalDataReveal.objects.get()
    assert (made.user, made.call_id, made.reason) == (admin_user, PII_CALL_ID, REASON)
    assert made.expires_at - made.revealed_at == timedelta(minutes=15)
    html = masked_admin.get(response["Location"]).content.decode()
    assert CARD in html and EMAIL in html
    until = timezone.localtime(made.expires_at).strftime("%H:%M")
    assert f"Revealed until {until} (reason: {REASON})" in html
    assert EMAIL in masked_admin.get(f"/calls/{PII_CALL_ID}/transcript.txt").content.decode()
    with time_machine.travel(made.expires_at + timedelta(seconds=1), tick=False):
        again = masked_admin.get(f"/calls/{PII_CALL_ID}/").content.decode()
    assert leaked(again) == [] and "Revealed until" not in again


def test_a_reveal_is_audited_with_who_when_what_and_why(masked_admin, admin_user, archived_pii):
    reveal(masked_admin)
    event = AuditEvent.objects.get(action=AuditAction.REVEAL_PERSONAL_DATA)
    made = PersonalDataReveal.objects.get()
    assert event.user == admin_user and event.call_id == PII_CALL_ID
    assert REASON in event.detail
    assert abs(event.at - made.revealed_at) < timedelta(seconds=5)


def test_a_reveal_is_for_one_call_only(masked_admin, archived_pii):
    reveal(masked_admin, call_id="call_other_0001")
    assert leaked(masked_admin.get(f"/calls/{PII_CALL_ID}/").content) == []


def test_a_viewer_cannot_reveal_and_nothing_is_written(viewer_client, archived_pii):
    html = viewer_client.get(f"/calls/{PII_CALL_ID}/").content.decode()
    assert "/reveal" not in html
    response = reveal(viewer_client)
    assert response.status_code == 403
    assert "may not reveal" in response.content.decode()
    assert not PersonalDataReveal.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL_PERSONAL_DATA).exists()
    assert leaked(viewer_client.get(f"/calls/{PII_CALL_ID}/").content) == []


def test_a_viewer_granted_the_permission_may_reveal(viewer_client, archived_pii, django_user_model):
    vic = django_user_model.objects.get(username="vic")
    vic.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    assert reveal(viewer_client).status_code == 303
    assert CARD in viewer_client.get(f"/calls/{PII_CALL_ID}/").content.decode()


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301])
def test_a_reveal_needs_a_reason(masked_admin, archived_pii, reason):
    response = reveal(masked_admin, reason=reason)
    assert response.status_code == 400
    assert "reason" in response.content.decode().lower()
    assert not PersonalDataReveal.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL_PERSONAL_DATA).exists()


def test_a_reveal_is_a_post(masked_admin, archived_pii):
    assert masked_admin.get(f"/calls/{PII_CALL_ID}/reveal").status_code == 405
    assert reveal(masked_admin, call_id="..").status_code == 404


def test_a_failed_audit_row_undoes_the_reveal(masked_admin, archived_pii, monkeypatch):
    from calls.services import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit table unavailable")

    monkeypatch.setattr(audit, "record_strict", broken)
    with pytest.raises(RuntimeError):
        reveal(masked_admin)
    assert not PersonalDataReveal.objects.exists()


def test_reveals_are_append_only(masked_admin, archived_pii):
    reveal(masked_admin)
    made = PersonalDataReveal.objects.get()
    with pytest.raises(AuditLogIsAppendOnly):
        made.save()
    with pytest.raises(AuditLogIsAppendOnly):
        made.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        PersonalDataReveal.objects.update(reason="changed")
    with pytest.raises(AuditLogIsAppendOnly):
        PersonalDataReveal.objects.all().delete()
