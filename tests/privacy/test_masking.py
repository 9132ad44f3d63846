"""Personal data masked by role (README, "Personal data"), through Django's test client.

An archived call carries known personal values (SECRETS): a card number read out, an e-mail,
the contact's number. A Viewer never gets any of them, in the page, its fragments, the
transcript downloads, the CSV, the ZIP's manifest, the live rows or the search; a Reviewer
does, unless PERSONAL_DATA_MASKED_FOR names the Reviewer role too.
"""

import csv
import io
import json
import zipfile
from datetime import timedelta
from types import MappingProxyType

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from calls.archive.store import store_call
from calls.models import AuditAction, AuditEvent
from calls.services import personal_data, roles
from calls.truedy.records import Call, Turn
from tests.conftest import FROZEN_NOW
from tests.reviews.conftest import person, signed_in

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

CARD = "4111 1111 1111 1111"
EMAIL = "jane.roe@example.com"
CONTACT = "+14155550162"
OUR_NUMBER = "+14155550199"
# Every original a masked response must never carry (the number in its digits too).
SECRETS = (CARD, "4111111111111111", EMAIL, CONTACT, "4155550162", OUR_NUMBER, "4155550199")
# A word only this call says: it finds the call in a search without naming anything personal.
MARKER = "zebrafish"
PII_CALL_ID = "call_pii_0001"
# Older than Truedy keeps calls: Truedy does not have it, the archive does.
CREATED = FROZEN_NOW - timedelta(days=400)
OLD_RANGE = "created_after=2025-09-01&created_before=2025-11-01"


def pii_call(call_id: str = PII_CALL_ID, created=CREATED) -> Call:
    return Call(
        id=call_id,
        agent_id="agt_pii",
        status="ended",
        direction="outbound",
        created_at=created,
        started_at=created + timedelta(seconds=5),
        ended_at=created + timedelta(seconds=125),
        updated_at=created + timedelta(seconds=130),
        to_number=CONTACT,
        from_number=OUR_NUMBER,
        duration_seconds=120,
        cost_cents=30,
        outcome="interested",
        summary=f"The contact paid by card {CARD} and wants the receipt at {EMAIL}.",
        transcript=(
            Turn("agent", f"Hello, this is the {MARKER} clinic. How can I help?", 0.0),
            Turn("contact", f"I want to pay. My card number is {CARD}.", 6.0),
            Turn("agent", "Thank you. Where should the receipt go?", 14.0),
            Turn("contact", f"To {EMAIL} please, {MARKER} fan here.", 19.0),
        ),
        recording_url=None,
        metadata=MappingProxyType({"crm_note": f"reach at {EMAIL}", "attempt": 2}),
    )


def archive_pii():
    """The call with personal data, in the archive (Truedy no longer has it)."""
    return store_call(pii_call(), source="sync", copy=False)


@pytest.fixture
def archived_pii(frozen_simulator):
    return archive_pii()


@pytest.fixture
def viewer_client(django_user_model):
    return signed_in(person(django_user_model, "vic", "Viewer"))


@pytest.fixture
def reviewer_client(django_user_model):
    return signed_in(person(django_user_model, "rita", "Reviewer"))


@pytest.fixture
def admin_user(django_user_model):
    return person(django_user_model, "ada", "Admin")


def leaked(body: bytes | str) -> list[str]:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return [secret for secret in SECRETS if secret in text]


def content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


# --- the call page ---------------------------------------------------------------------------


def test_a_viewer_sees_the_call_page_masked(viewer_client, archived_pii):
    response = viewer_client.get(f"/calls/{PII_CALL_ID}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert leaked(html) == []
    assert "[card number]" in html or "[phone]" in html
    assert "[email]" in html
    assert "••" in html  # the contact number, partly
    assert "Personal data is masked for your role" in html
    assert "Reveal for this call" not in html  # a Viewer may not reveal


def test_a_reviewer_sees_the_originals(reviewer_client, archived_pii):
    html = reviewer_client.get(f"/calls/{PII_CALL_ID}/").content.decode()
    assert CARD in html and EMAIL in html and CONTACT in html
    assert "Personal data is masked" not in html


@pytest.mark.parametrize("target", ["transcript", "call"])
def test_the_call_pages_fragments_are_masked(viewer_client, archived_pii, target):
    response = viewer_client.get(
        f"/calls/{PII_CALL_ID}/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target
    )
    assert response.status_code == 200
    assert MARKER in response.content.decode()  # the fragment does carry the transcript
    assert leaked(response.content) == []


def test_masking_can_apply_to_reviewers_too(reviewer_client, archived_pii, settings):
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Reviewer"]
    html = reviewer_client.get(f"/calls/{PII_CALL_ID}/").content.decode()
    assert leaked(html) == []
    assert "[email]" in html


def test_a_viewer_is_never_unmasked_by_the_setting(viewer_client, archived_pii, settings):
    settings.PERSONAL_DATA_MASKED_FOR = []
    assert leaked(viewer_client.get(f"/calls/{PII_CALL_ID}/").content) == []


# --- downloads -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["txt", "json"])
def test_transcript_downloads_are_masked_for_a_viewer(
    viewer_client, reviewer_client, archived_pii, kind
):
    url = f"/calls/{PII_CALL_ID}/transcript.{kind}"
    masked = viewer_client.get(url)
    assert masked.status_code == 200 and leaked(masked.content) == []
    assert MARKER in masked.content.decode()
    if kind == "json":
        json.loads(masked.content)  # still a document
    assert EMAIL in reviewer_client.get(url).content.decode()


def test_the_csv_export_is_masked_for_a_viewer(viewer_client, reviewer_client, archived_pii):
    url = f"/calls/export.csv?{OLD_RANGE}"
    body = content(viewer_client.get(url)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert any(PII_CALL_ID in row for row in rows)
    assert leaked(body) == []
    assert EMAIL in content(reviewer_client.get(url)).decode("utf-8-sig")


def test_the_zip_manifest_is_masked_for_a_viewer(viewer_client, archived_pii):
    response = viewer_client.get(f"/calls/recordings.zip?{OLD_RANGE}")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(content(response))) as bundle:
        manifest = bundle.read("manifest.csv").decode("utf-8-sig")
    assert PII_CALL_ID in manifest
    assert leaked(manifest) == []


# --- the list and its search ---------------------------------------------------------------


def test_list_rows_show_contact_numbers_masked(viewer_client, reviewer_client, archived_pii):
    html = viewer_client.get(f"/calls/?{OLD_RANGE}").content.decode()
    assert PII_CALL_ID in html and leaked(html) == []
    assert CONTACT in reviewer_client.get(f"/calls/?{OLD_RANGE}").content.decode()


def test_a_search_hit_line_is_masked_for_a_viewer(viewer_client, archived_pii):
    response = viewer_client.get(f"/calls/?q={MARKER}+please")
    html = response.content.decode()
    assert PII_CALL_ID in html  # found by words that are not personal
    assert 'class="match"' in html
    assert leaked(html) == []
    assert "[email]" in html


@pytest.mark.parametrize(
    "query",
    [
        "4111",
        "4111111111111111",
        '"4111 1111 1111 1111"',
        "jane.roe@example.com",
        "jane.roe",
        "example.com",
        CONTACT,
        "+1 415 555 0162",
    ],
)
def test_a_viewer_cannot_find_a_call_by_a_masked_value(
    viewer_client, reviewer_client, archived_pii, query
):
    response = viewer_client.get("/calls/", {"q": query})
    assert response.status_code == 200
    assert PII_CALL_ID not in response.content.decode()
    totals = viewer_client.get("/calls/totals/", {"q": query}).context_data["totals"]
    assert totals.count == 0
    if query in ("4111", CONTACT):  # (PostgreSQL reads an e-mail as one word: no parts)
        assert PII_CALL_ID in reviewer_client.get("/calls/", {"q": query}).content.decode()


@pytest.mark.parametrize("query", ["4111", CONTACT])
def test_a_review_queue_does_not_find_a_call_by_a_masked_value(
    viewer_client, reviewer_client, archived_pii, query, settings
):
    """*Review these calls* over a search goes to the first call it finds: for a masked role
    it searches the masked copy, like the list, so the redirect cannot point at the call."""
    viewer_start = viewer_client.get("/calls/review/start", {"q": query})
    assert viewer_start.status_code == 303
    assert PII_CALL_ID not in viewer_start["Location"]
    reviewer_start = reviewer_client.get("/calls/review/start", {"q": query})
    assert f"/calls/{PII_CALL_ID}/" in reviewer_start["Location"]
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Reviewer"]
    masked_reviewer = reviewer_client.get("/calls/review/start", {"q": query})
    assert PII_CALL_ID not in masked_reviewer["Location"]


@pytest.mark.parametrize("query", ["4111111111111111", EMAIL, CONTACT])
def test_a_viewers_search_says_personal_data_is_not_searchable(viewer_client, archived_pii, query):
    html = viewer_client.get("/calls/", {"q": query}).content.decode()
    assert "masked for your role, so they cannot be searched" in html


def test_a_reviewers_search_says_nothing_of_masking(reviewer_client, archived_pii):
    html = reviewer_client.get("/calls/", {"q": EMAIL}).content.decode()
    assert "cannot be searched" not in html


def test_the_archive_keeps_a_masked_copy_of_the_search_text(archived_pii):
    archived_pii.refresh_from_db()
    assert EMAIL in archived_pii.search_text
    assert MARKER in archived_pii.masked_search_text
    assert all(secret not in archived_pii.masked_search_text for secret in SECRETS)


# --- live updates ------------------------------------------------------------------------------


def test_live_rows_are_masked_for_a_viewer(viewer_client, frozen_simulator):
    from calls.upstream import reads

    calls = reads.list_calls(limit=20).calls
    numbers = {call.contact_number for call in calls if call.contact_number}
    assert numbers
    watch = ",".join(call.id for call in calls)
    response = viewer_client.get(f"/calls/live/?watch={watch}&rows=1")
    assert response.status_code == 200
    rows = response.json()["rows"]
    html = "".join(row.get("html", "") for row in rows.values())
    assert html  # rows were rendered
    assert all(number not in html for number in numbers)
    listed = viewer_client.get("/calls/").content.decode()
    assert all(number not in listed for number in numbers)


# --- audio -------------------------------------------------------------------------------------


def test_viewers_may_be_kept_from_playing_recordings(viewer_client, frozen_simulator, settings):
    from tests.views.test_recording import recorded_call

    settings.VIEWERS_MAY_PLAY_RECORDINGS = False
    call = recorded_call(frozen_simulator)
    page = viewer_client.get(f"/calls/{call.id}/").content.decode()
    assert "<audio" not in page
    assert "Your role may not play or download recordings" in page
    refused = viewer_client.get(f"/calls/{call.id}/recording")
    assert refused.status_code == 403
    assert "audio cannot be masked" in refused.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.PLAY_RECORDING).exists()
    zipped = viewer_client.get("/calls/recordings.zip")
    assert zipped.status_code == 403


def test_viewers_play_recordings_by_default(viewer_client, reviewer_client, frozen_simulator):
    from tests.views.test_recording import recorded_call

    call = recorded_call(frozen_simulator)
    assert "<audio" in viewer_client.get(f"/calls/{call.id}/").content.decode()


def test_reviewers_always_play_recordings(reviewer_client, frozen_simulator, settings):
    from tests.views.test_recording import recorded_call

    settings.VIEWERS_MAY_PLAY_RECORDINGS = False
    call = recorded_call(frozen_simulator)
    assert "<audio" in reviewer_client.get(f"/calls/{call.id}/").content.decode()


# --- the policy ----------------------------------------------------------------------------------


def test_the_policy_by_role(django_user_model, settings):
    viewer = person(django_user_model, "v", "Viewer")
    reviewer = person(django_user_model, "r", "Reviewer")
    admin = person(django_user_model, "a", "Admin")
    nobody = person(django_user_model, "n", None)
    outsider = django_user_model.objects.create_user(username="o", password="x" * 20)
    assert [roles.sees_personal_data(u) for u in (viewer, reviewer, admin, nobody, outsider)] == [
        False,
        True,
        True,
        False,
        False,
    ]
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Admin"]
    assert roles.sees_personal_data(reviewer) and not roles.sees_personal_data(admin)
    assert roles.can_reveal_personal_data(admin)
    assert not roles.can_reveal_personal_data(reviewer)
    assert not roles.can_reveal_personal_data(viewer)


def test_the_admin_group_holds_the_reveal_permission():
    admin = Group.objects.get(name="Admin")
    assert admin.permissions.filter(codename="reveal_personal_data").exists()


def test_mask_call_keeps_what_is_not_personal():
    masked = personal_data.mask_call(pii_call())
    assert masked.id == PII_CALL_ID and masked.duration_seconds == 120
    assert [turn.timestamp for turn in masked.transcript] == [0.0, 6.0, 14.0, 19.0]
    assert masked.transcript[0].text == pii_call().transcript[0].text
    assert masked.metadata["attempt"] == 2
    assert EMAIL not in masked.metadata["crm_note"]
    assert masked.to_number.endswith("62") and CONTACT not in masked.to_number


def test_a_long_transcripts_masked_turns_are_cached_masked(monkeypatch):
    from calls.services import personal_data as service

    texts = [f"turn {n}: reach me at {EMAIL}" for n in range(service.MASKED_TURNS_FROM)]
    first = service.masked_turns(texts)
    assert all(EMAIL not in text for text in first)
    monkeypatch.setattr(service, "mask_turns", lambda texts: pytest.fail("not from the cache"))
    assert service.masked_turns(texts) == first


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's full-text search: `make test-shared-backends` runs this",
)
def test_a_masked_search_is_answered_by_its_own_gin_index(db):
    from calls.archive.search import matching_archived_calls
    from calls.models import ArchivedCall
    from calls.truedy.filters import CallFilters

    said = "contact: my internet drops every evening, mail me at {}.\n{}"
    ArchivedCall.objects.bulk_create(
        ArchivedCall(
            id=f"call_masked_{n:05d}",
            status="ended",
            created_at=CREATED - timedelta(minutes=n),
            search_text=said.format(EMAIL, "zebra" if n % 500 == 0 else ""),
            masked_search_text=said.format("[email]", "zebra" if n % 500 == 0 else ""),
        )
        for n in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calls_archivedcall")
    hits = matching_archived_calls(CallFilters(q="zebra evening", masked_search=True))
    plan = hits.explain()
    assert "archive_masked_search_vector" in plan, plan
    assert hits.count() == 10
    assert not matching_archived_calls(CallFilters(q=EMAIL, masked_search=True)).exists()
    assert matching_archived_calls(CallFilters(q=EMAIL)).count() == 5000


def test_the_migration_fills_the_masked_copy_of_archived_calls(archived_pii):
    import importlib

    from django.apps import apps

    from calls.models import ArchivedCall

    migration = importlib.import_module("calls.migrations.0010_personal_data")
    ArchivedCall.objects.filter(pk=PII_CALL_ID).update(masked_search_text="")
    migration.fill_masked_search_text(apps, None)
    row = ArchivedCall.objects.get(pk=PII_CALL_ID)
    assert MARKER in row.masked_search_text
    assert all(secret not in row.masked_search_text for secret in SECRETS)
