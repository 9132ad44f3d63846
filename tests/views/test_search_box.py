"""The list's one search box: a call id opens the call, a phone number in any spelling finds
that contact's calls, anything else searches archived transcripts; the page says what it
searched and how far the archive reaches, and a hit links to its moment."""

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calls.archive import store
from calls.forms import SearchTerm, read_search
from calls.lib.phone_numbers import looks_like_phone_number, to_e164
from calls.models import ArchivedCall, SyncCursor
from calls.upstream import gateway
from tests.conftest import FROZEN_NOW, upstream_paths
from tests.notes.roles import make_reviewer

pytestmark = pytest.mark.django_db

NUMBER = "+17025550151"


# --- reading what was typed -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "+17025550151",
        "+1 702 555 0151",
        "+1 (702) 555-0151",
        "(702) 555-0151",
        "702-555-0151",
        "702.555.0151",
        "1 702 555 0151",
        "7025550151",
        "+1\u00a0702\u00a0555\u00a00151",
    ],
)
def test_every_common_spelling_of_a_number_is_one_number(typed):
    assert read_search(typed, region="US") == SearchTerm("phone", typed.strip(), NUMBER)


def test_a_number_from_abroad_needs_its_country_code_or_the_international_prefix():
    assert read_search("+44 7700 900123", region="US").value == "+447700900123"
    assert read_search("0044 7700 900123", region="US").value == "+447700900123"
    assert read_search("07700 900123", region="GB").value == "+447700900123"


@pytest.mark.parametrize(
    "typed",
    ["5f9c2d1e-8a7b-4c3d-9e2f-1a2b3c4d5e6f", "call_8f3kq2m9x7c4v1b6n5z0a2s8", "call_x"],
)
def test_a_call_id_is_read_as_one(typed):
    assert read_search(typed, region="US") == SearchTerm("call_id", typed, typed)


@pytest.mark.parametrize(
    "typed",
    ["router", "fiber cut", "callback-requested", "2026", "card 4111", "x" * 14 + "1", "12345"],
)
def test_words_and_short_numbers_are_words(typed):
    assert read_search(typed, region="US").kind == "words"


@given(
    digits=st.text(alphabet="0123456789", min_size=10, max_size=10).filter(
        lambda d: d[0] not in "01" and d[3] not in "01"
    ),
    style=st.sampled_from(["{}{}{}", "({}) {}-{}", "{}-{}-{}", "{}.{}.{}", "+1 {} {} {}"]),
)
def test_a_us_number_reads_the_same_however_it_is_punctuated(digits, style):
    typed = style.format(digits[:3], digits[3:6], digits[6:])
    assert looks_like_phone_number(typed)
    assert to_e164(typed, "US") == "+1" + digits


# --- the list -------------------------------------------------------------------------------


@pytest.fixture
def archived(frozen_simulator):
    """Ended calls with transcripts, archived as the sync stores them."""
    client = gateway.get_client()
    now = frozen_simulator.clock.now_us()
    rows = []
    for skeleton in frozen_simulator.data.calls:
        if skeleton.status_at(now) == "ended":
            call = client.get_call(skeleton.id)
            if call.transcript and call.contact_number:
                rows.append(store.store_call(call, source="sync"))
        if len(rows) == 12:
            break
    frozen_simulator.reset_requests()
    return rows


def test_a_call_id_in_the_search_box_opens_the_call(staff_client, archived):
    call_id = archived[0].id
    response = staff_client.get("/calls/", {"q": f"  {call_id} "})
    assert response.status_code == 302
    assert response["Location"] == f"/calls/{call_id}/"


def test_a_call_id_typed_with_htmx_opens_the_call_as_a_page(staff_client, archived):
    call_id = archived[0].id
    response = staff_client.get("/calls/", {"q": call_id}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/calls/{call_id}/"


@pytest.fixture
def reviewer_client(staff_client, staff_user):
    """A contact number finds calls for a role that sees personal data (a Viewer's search
    finds none by one: tests/privacy/test_masking.py)."""
    make_reviewer(staff_user)
    return staff_client


def test_a_phone_number_in_any_spelling_lists_that_contacts_calls(reviewer_client, archived):
    staff_client = reviewer_client
    row = archived[0]
    number = store.to_record(row).contact_number
    assert number and number.startswith("+1"), "the simulator's US numbers"
    spelled = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    response = staff_client.get("/calls/", {"q": spelled, "tz": "UTC"})
    assert response.status_code == 200
    ids = {call.id for call, _ in response.context_data["call_rows"]}
    expected = set(
        ArchivedCall.objects.filter(to_number=number).values_list("id", flat=True)
    ) | set(ArchivedCall.objects.filter(from_number=number).values_list("id", flat=True))
    assert ids == expected and row.id in ids
    html = response.content.decode()
    assert f"Calls with the contact number {number}" in html
    assert "searched in the dashboard" in html


def test_a_number_that_cannot_be_one_gets_a_clear_message(staff_client, archived):
    response = staff_client.get("/calls/", {"q": "999 999 999 999 999"})
    assert response.status_code == 400
    assert "looks like a phone number but cannot be one" in response.content.decode()


def test_the_search_says_how_far_the_archive_reaches(staff_client, archived):
    SyncCursor.objects.create(name="incremental", finished_at=FROZEN_NOW - timedelta(minutes=3))
    response = staff_client.get("/calls/", {"q": "zzzz-no-such-word", "tz": "UTC"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "No calls match" in html
    first = min(row.created_at for row in archived)
    last = max(row.created_at for row in archived)
    assert f"The archive holds {len(archived)} calls" in html
    assert f"created {first:%Y-%m-%d} to {last:%Y-%m-%d}" in html
    assert "last updated 3\xa0minutes ago" in html


def test_an_empty_archive_says_so_rather_than_only_no_match(staff_client, frozen_simulator):
    response = staff_client.get("/calls/", {"q": "router"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The archive holds no calls yet" in html
    assert all("/calls/" not in path for path in upstream_paths(frozen_simulator)), (
        "a search never lists calls from Truedy"
    )


def test_a_hit_links_to_its_moment_with_the_search_in_the_find_box(staff_client, archived):
    row = archived[0]
    turn = max(row.transcript, key=lambda t: len(t["text"]))
    word = max(turn["text"].split(), key=len).strip(".,!?").lower()
    response = staff_client.get("/calls/", {"q": word, "tz": "UTC"})
    html = response.content.decode()
    links = re.findall(r'<a class="hit-link" href="([^"]+)"', html)
    ours = [link for link in links if f"/calls/{row.id}/" in link]
    assert ours, html
    link = ours[0].replace("&amp;", "&")
    assert f"q={word}" in link and f"find={word}" in link
    moment = re.search(r"[?&]t=([0-9.]+)", link)
    assert moment is not None
    assert any(
        isinstance(t.get("timestamp"), int | float)
        and abs(float(t["timestamp"]) - float(moment.group(1))) < 0.01
        and word in t["text"].lower()
        for t in row.transcript
    )


def test_a_hit_opened_from_a_search_walks_the_other_hits(reviewer_client, archived):
    staff_client = reviewer_client
    number = store.to_record(archived[0]).contact_number
    hits = staff_client.get("/calls/", {"q": number, "tz": "UTC"}).context_data["call_rows"]
    ids = [call.id for call, _ in hits]
    if len(ids) < 2:  # the same contact twice: make it so
        other = archived[1]
        ArchivedCall.objects.filter(pk=other.pk).update(to_number=number, from_number=number)
        hits = staff_client.get("/calls/", {"q": number, "tz": "UTC"}).context_data["call_rows"]
        ids = [call.id for call, _ in hits]
    response = staff_client.get(f"/calls/{ids[0]}/", {"q": number, "tz": "UTC"})
    assert response.status_code == 200
    neighbours = response.context["neighbours"]
    assert neighbours["position"] == 1 and neighbours["total"] == len(ids)
    assert neighbours["next"][0] == ids[1]
    assert "q=%2B1" in neighbours["next"][1] or "q=+1" in neighbours["next"][1]
