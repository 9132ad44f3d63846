"""The sentinel sweep: no original personal value reaches a masked role, at any URL.

Like tests/test_secret_leaks.py for the API key: known personal values are put into an archived
call (tests.privacy.test_masking.SECRETS: a card number read out, an e-mail, the contact's
number and ours), and every URL pattern the resolver knows (tests/test_url_walk.py's walk, the
admin aside) is fetched as a page and as each htmx fragment, plus the list's queries that reach
that call (a range Truedy no longer keeps, a search, its totals, the CSV, the ZIP and its
manifest, the live rows, the agreement table), as each masked role: a Viewer, and a Reviewer
and an Admin when PERSONAL_DATA_MASKED_FOR names them. Bodies, streamed bodies, ZIP members and
headers are all read. The simulator's own calls are swept too, with their personal values as the
detector finds them in the originals (so the sweep grows with the simulator's conversations).
"""

import io
import zipfile
from urllib.parse import quote

import pytest

from calls.lib.personal_data import find_personal_data
from calls.services.scorecards import QuestionSpec
from calls.upstream import reads
from tests.privacy.test_masking import (
    EMAIL,
    MARKER,
    OLD_RANGE,
    PII_CALL_ID,
    SECRETS,
    archive_pii,
    content,
)
from tests.reviews.conftest import person, signed_in
from tests.scorecards.conftest import make_scorecard
from tests.test_url_walk import walk
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

CAMPAIGN_ID = "cmp_brightline_sales_202611"
# The partials an htmx request may target (calls.views.rendering.PARTIALS).
TARGETS = ("results", "call", "transcript", "totals")
MASKED_ROLES = ("Viewer", "Reviewer", "Admin")
# A value the detector finds shorter than this is not swept for: "1999" or "24" would be found
# in any page's dates and counts. Every card, e-mail and phone number is longer.
SHORTEST_SWEPT = 8


def list_queries(call_id: str) -> list[str]:
    """URLs beyond the walk's bare patterns: the ones that reach the call with personal data."""
    return [
        f"/calls/?{OLD_RANGE}",
        f"/calls/?q={MARKER}",
        f"/calls/?q={MARKER}&per_page=100",
        f"/calls/totals/?q={MARKER}",
        f"/calls/totals/?{OLD_RANGE}",
        f"/calls/export.csv?q={MARKER}",
        f"/calls/export.csv?{OLD_RANGE}",
        f"/calls/recordings.zip?q={MARKER}",
        f"/calls/live/?watch={call_id}&rows=1",
        f"/calls/live/?watch={call_id}&rows=1&q={MARKER}",
        f"/calls/agreement/?q={MARKER}",
        f"/calls/{call_id}/?find={MARKER}",
        f"/calls/{call_id}/?t=7",
        f"/calls/{call_id}/?q={MARKER}&find={MARKER}",
        f"/calls/{call_id}/transcript.txt",
        f"/calls/{call_id}/transcript.json",
        "/for-you/",
    ]


def bodies(response) -> list[str]:
    """Everything a response carries: its headers, its body, and each member of a ZIP."""
    raw = content(response)
    parts = [raw.decode("utf-8", "replace")]
    parts += [f"{name}: {value}" for name, value in response.items()]
    if response.get("Content-Type", "").startswith("application/zip") and raw:
        with zipfile.ZipFile(io.BytesIO(raw)) as bundle:
            parts += [bundle.read(name).decode("utf-8", "replace") for name in bundle.namelist()]
    return parts


def sweep(client, urls: list[str], secrets: tuple[str, ...]) -> tuple[int, list[str]]:
    """(responses read, what leaked where)."""
    read, found = 0, []
    for url in urls:
        variants = [{}] + [{"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": t} for t in TARGETS]
        for headers in variants:
            response = client.get(url, **headers)
            assert response.status_code < 500, url
            read += 1
            for text in bodies(response):
                found += [f"{secret!r} at {url} {headers}" for secret in secrets if secret in text]
    return read, found


def walked_urls(call_id: str) -> list[str]:
    urls = [
        url.path
        for url in walk({"call_id": call_id, "campaign_id": CAMPAIGN_ID})
        if not url.in_admin and url.name not in ("logout",)
    ]
    return urls + list_queries(call_id)


@pytest.fixture
def archived_pii(frozen_simulator, django_user_model):
    """The call with personal data, and a scorecard whose automatic check quotes the turn that
    reads the card number out as its evidence (the call page's panel, the scorecard page)."""
    author = person(django_user_model, "scorer", "Admin")
    question = QuestionSpec(
        "Card read out",
        "yes_no",
        weight=1,
        auto_check={"kind": "phrase", "speaker": "contact", "phrases": "card number", "said": True},
    )
    make_scorecard(author, name="Privacy", questions=(question,))
    return archive_pii()


@pytest.fixture
def masked_clients(django_user_model, settings):
    settings.PERSONAL_DATA_MASKED_FOR = list(MASKED_ROLES)
    return {role: signed_in(person(django_user_model, role.lower(), role)) for role in MASKED_ROLES}


def test_no_original_reaches_a_masked_role_anywhere(masked_clients, archived_pii):
    urls = walked_urls(PII_CALL_ID)
    coverage = {}
    for role, client in masked_clients.items():
        read, found = sweep(client, urls, SECRETS)
        assert found == [], f"{role}: " + "; ".join(found[:10])
        coverage[role] = read
    print(
        f"\nsweep (archived call): {len(urls)} URLs x {len(TARGETS) + 1} renderings x roles",
        coverage,
    )
    assert len(urls) >= 50 and all(
        read == len(urls) * (len(TARGETS) + 1) for read in coverage.values()
    )


def test_the_sweep_would_see_a_leak(django_user_model, archived_pii):
    """The same sweep as a Reviewer (who sees originals) finds them: it reads what it claims."""
    reviewer = signed_in(person(django_user_model, "rita", "Reviewer"))
    _, found = sweep(reviewer, list_queries(PII_CALL_ID), SECRETS)
    assert any(EMAIL in leak for leak in found)
    assert any("export.csv" in leak for leak in found)
    assert any("recordings.zip" in leak for leak in found)
    # The scorecard's evidence quotes the card number to someone who sees originals.
    page = reviewer.get(f"/calls/{PII_CALL_ID}/").content.decode()
    evidence = page[page.index('class="evidence"') :][:600]
    assert "4111" in evidence


@pytest.mark.shared_backends  # PostgreSQL's full-text search as well as SQLite's scan
@pytest.mark.parametrize(
    "typed",
    ["4111 1111 1111 1111", "4111111111111111", EMAIL, "jane.roe", "+14155550162", "5550162"],
)
def test_a_masked_value_typed_into_a_search_finds_nothing(masked_clients, archived_pii, typed):
    for client in masked_clients.values():
        for path in ("/calls/", "/calls/totals/", "/calls/export.csv", "/calls/agreement/"):
            response = client.get(f"{path}?q={quote(typed)}")
            assert response.status_code < 500
            assert PII_CALL_ID not in "".join(bodies(response)), (path, typed)


def test_the_simulators_calls_are_swept_by_what_the_detector_finds(
    masked_clients, frozen_simulator, django_user_model
):
    """A recorded call of the simulator and the list's first page: the originals are what a
    Reviewer is shown (contact numbers, and every value the detector finds in the transcript
    and the summary); a masked role gets none of them."""
    call = reads.get_call(recorded_call(frozen_simulator).id)
    originals = {number for number in (call.to_number, call.from_number) if number}
    texts = [turn.text for turn in call.transcript or ()] + [call.summary or ""]
    for text in texts:
        originals |= {text[f.start : f.end] for f in find_personal_data(text)}
    page = reads.list_calls(limit=25).calls
    originals |= {c.contact_number for c in page if c.contact_number}
    secrets = tuple(value for value in originals if len(value) >= SHORTEST_SWEPT)
    assert secrets
    urls = [f"/calls/{call.id}/", f"/calls/{call.id}/transcript.txt"]
    urls += [f"/calls/{call.id}/transcript.json", "/calls/", "/calls/export.csv"]
    urls += [f"/calls/live/?watch={','.join(c.id for c in page)}&rows=1"]
    for role, client in masked_clients.items():
        _, found = sweep(client, urls, secrets)
        assert found == [], f"{role}: " + "; ".join(found[:10])
