"""The archive's search syntax on both databases, and PostgreSQL's full-text search behind it
(calls/archive/search.py, ``ArchivedCall.search_vector``, migration 0008).

Marked ``shared_backends``: `make test` runs these on SQLite (the scan) and again on PostgreSQL
(`make test-shared-backends`), where the tests of stemming, the index and PostgreSQL's matching
lines run; on SQLite those skip, saying why.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.archive import store
from calls.archive.search import (
    archived_page,
    matching_archived_calls,
    matching_line,
    matching_lines,
    parse_search,
)
from calls.models import SEARCH_VECTOR_CHARS, ArchivedCall
from calls.simulator.conversations import STEPS
from calls.truedy.filters import CallFilters
from calls.truedy.records import Call, Turn
from calls.upstream import gateway

pytestmark = pytest.mark.shared_backends

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's full-text search: `make test-shared-backends` runs this",
)


def a_call(number: int, *lines: str, summary: str | None = None) -> Call:
    """Call ``number`` (higher is older), ended, with ``lines`` as alternating agent and contact
    turns, ten seconds apart."""
    created = T0 - timedelta(minutes=number)
    turns = tuple(
        Turn("agent" if n % 2 == 0 else "contact", text, 10.0 * n) for n, text in enumerate(lines)
    )
    return Call(
        id=f"call_fts_{number:04d}",
        agent_id="agt_1",
        status="ended",
        direction="inbound",
        created_at=created,
        started_at=created,
        ended_at=created + timedelta(minutes=2),
        updated_at=None,
        to_number="+13125550100",
        from_number="+13125550199",
        duration_seconds=120,
        cost_cents=30,
        outcome="resolved",
        summary=summary,
        transcript=turns or None,
        recording_url=None,
    )


def found(q: str) -> set[int]:
    """The numbers of the calls a search finds."""
    ids = matching_archived_calls(CallFilters(q=q)).values_list("id", flat=True)
    return {int(call_id.rsplit("_", 1)[1]) for call_id in ids}


@pytest.fixture
def archive(db) -> dict[int, ArchivedCall]:
    calls = {
        1: a_call(1, "Thanks for calling Northwind.", "My router blinks red every evening."),
        2: a_call(2, "Hello.", "The red light on the router went out, but it still blinks."),
        3: a_call(3, "Hi.", "I was charged twice, I want a refund.", summary="Refunded twice."),
        4: a_call(4, "Good morning.", "The router is fine now.", summary="Refund declined."),
        5: a_call(5, "Hello there.", "I'd like to book a check-up on Tuesday."),
    }
    return {n: store.store_call(call, source="sync", copy=False) for n, call in calls.items()}


# --- reading the syntax (pure) -------------------------------------------------------------------


def test_words_phrases_and_minus_are_read_as_a_web_search():
    search = parse_search('Router  "blinks   RED" -evening -"went out" router "unclosed phrase')
    assert search.wanted == ("router", "blinks red", "unclosed phrase")
    assert search.unwanted == ("evening", "went out")
    assert parse_search("  ") == parse_search(None) and not parse_search('""')
    assert parse_search("- x").wanted == ("-", "x")  # a lone minus is a word, not a "not"
    assert parse_search("wi-fi don't").wanted == ("wi-fi", "don't")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_reads_as_terms_without_spaces_around_them(text):
    search = parse_search(text)
    for term in (*search.wanted, *search.unwanted):
        assert term and term == " ".join(term.split()) and term == term.lower()
    assert len(set(search.wanted)) == len(search.wanted)
    if '"' not in text:  # no phrase: every word is wanted, or unwanted after a "-"
        for word in text.split():
            if word.startswith("-") and len(word) > 1:
                assert " ".join(word[1:].lower().split()) in search.unwanted
            else:
                assert " ".join(word.lower().split()) in search.wanted


# --- the syntax, on either database -------------------------------------------------------------


def test_every_word_must_appear_in_any_order(archive):
    assert found("router red") == {1, 2}
    assert found("RED router blinks") == {1, 2}
    assert found("router refund") == {4}
    assert found("router zebra") == set()


def test_a_quoted_phrase_must_appear_as_written(archive):
    assert found('"router blinks"') == {1}
    assert found('"blinks red" router') == {1}
    assert found('"red router"') == set()


def test_minus_leaves_out_calls_with_a_word_or_phrase(archive):
    assert found("router -evening") == {2, 4}
    assert found('router -"went out"') == {1, 4}
    assert found("-router") == {3, 5}


def test_a_search_of_only_common_words_still_finds_the_calls_holding_them(archive):
    """PostgreSQL ignores "but" and "the": the search scans rather than find nothing."""
    assert found("but the") == {2}
    line = matching_line(archive[2], "BUT the")
    assert [text for text, hit in line.parts if hit] == ["The", "the", "but"]


def test_the_search_keeps_the_other_filters_and_the_newest_first_order(archive):
    rows = matching_archived_calls(
        CallFilters(q="router", created_before=T0 - timedelta(minutes=1))
    )
    assert [row.id for row in rows] == ["call_fts_0002", "call_fts_0004"]


def test_a_page_of_hits_comes_with_the_count_of_them_all(archive):
    def page(q: str, offset: int) -> tuple[list[int], int]:
        rows, total = archived_page(CallFilters(q=q), offset=offset, limit=2)
        return [int(row.id.rsplit("_", 1)[1]) for row in rows], total

    assert page("router", 0) == ([1, 2], 3)
    assert page("router", 2) == ([4], 3)
    assert page("router", 4) == ([], 3)
    assert page("zebra", 0) == ([], 0)
    assert page("-router", 0) == ([3, 5], 2)


# --- PostgreSQL: stemming, the vector kept current, the index, the matching line ---------------


@postgresql_only
def test_words_match_in_any_of_their_forms(archive):
    assert found("refunds") == {3, 4}  # "refund", "Refunded"
    assert found("blinking routers") == {1, 2}
    assert found('"blink red"') == {1}
    assert found("booking checkups") == set() and found("booking check-up") == {5}


@postgresql_only
def test_the_vector_follows_every_write_of_the_row(archive):
    store.store_call(
        a_call(5, "Hello there.", "My modem is making a buzzing noise."), source="webhook"
    )
    assert found("modem buzz") == {5} and found("tuesday") == set()
    ArchivedCall.objects.filter(pk="call_fts_0001").update(search_text="agent: a dialtone")
    assert found("dialtones") == {1} and 1 not in found("router")


@postgresql_only
def test_a_transcript_too_long_for_one_vector_is_stored_and_found_by_its_beginning(db):
    words = " ".join(f"w{n:x}z" for n in range(SEARCH_VECTOR_CHARS // 4))  # all different
    store.store_call(a_call(7, "beginning " + words + " ending"), source="sync", copy=False)
    assert found("beginning") == {7} and found("ending") == set()


@postgresql_only
def test_the_matching_line_is_postgresqls_reading_of_the_search(archive):
    line = matching_line(archive[3], "refunds")
    assert (line.source, line.seconds) == ("Contact", 10.0)
    assert [text for text, hit in line.parts if hit] == ["refund"]
    lines = matching_lines(archive.values(), "blinking router")
    assert set(lines) == {archive[n].id for n in (1, 2, 4)}
    assert lines[archive[2].id].parts == (
        ("The red light on the ", False),
        ("router", True),
        (" went out, but it still ", False),
        ("blinks", True),
        (".", False),
    )


@postgresql_only
def test_of_the_turns_holding_every_word_the_line_is_the_one_ranked_first(db):
    row = store.store_call(
        a_call(8, "Is the router on?", "The router blinks.", "It blinks, the router blinks, the "
               "router blinks and blinks."),
        source="sync",
        copy=False,
    )  # fmt: skip
    assert matching_line(row, "router blinks").seconds == 20.0


@postgresql_only
def test_a_search_is_answered_by_the_gin_index(db):
    """5,000 support calls of about 1 kB each (the bench measures 100,000: `make bench-search`)."""
    steps = "\n".join(f"{who}: {text}" for who, text in STEPS).lower()
    rare = "contact: and the router shows zebra stripes.\n"  # in 10 calls of 5,000
    ArchivedCall.objects.bulk_create(
        ArchivedCall(
            id=f"call_bulk_{n:05d}",
            status="ended",
            created_at=T0 - timedelta(minutes=n),
            search_text=f"agent: thanks for calling, caller {n}.\ncontact: my internet drops "
            f"every evening around eight.\n{rare if n % 500 == 0 else ''}{steps}",
        )
        for n in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calls_archivedcall")
    hits = matching_archived_calls(CallFilters(q="zebra evening"))
    plan = hits.explain()
    assert "Bitmap Index Scan on archive_search_vector" in plan, plan
    assert "search_vector @@" in plan and "~~" not in plan, plan  # not the scan's LIKE
    assert hits.count() == 10


@postgresql_only
@pytest.mark.parametrize("masked", [False, True])
def test_every_page_of_a_common_search_is_the_lists_page_whichever_way_it_is_read(db, masked):
    """A common search reads its page among the newest calls (the count says it is common); a
    page they do not hold, a rare search, hits in a burst among old calls and calls without a
    date read the hits: every page is the list's, in its order (newest first, ties by id, no
    date last)."""
    rows = []
    for n in range(60):
        created = None if n in (20, 41) else T0 - timedelta(minutes=n // 2)  # pairs tie
        words = "router blinks" if n % 3 else "modem hums"
        text = f"contact: my {words}." + (" old zebra" if n >= 40 else "")
        rows.append(
            ArchivedCall(
                id=f"call_dense_{n:03d}",
                status="ended",
                created_at=created,
                search_text=text,
                masked_search_text=text,  # nothing personal in it
            )
        )
    ArchivedCall.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calls_archivedcall")
    for q in ("router blinks", "zebra", "router -zebra"):
        filters = CallFilters(q=q, masked_search=masked)
        expected = [row.id for row in matching_archived_calls(filters)]
        hits = len(expected)
        assert hits == {"router blinks": 40, "zebra": 20, "router -zebra": 26}[q]
        if q != "router -zebra":  # the calls without a date come last
            assert expected[-1] == "call_dense_041"
        for limit in (2, 5, 25):
            for offset in range(0, hits + 2, limit):
                with CaptureQueriesContext(connection) as sent:
                    page, total = archived_page(filters, offset=offset, limit=limit)
                assert total == hits
                assert [row.id for row in page] == expected[offset : offset + limit], (q, offset)
                read_hits = any("MATERIALIZED" in query["sql"] for query in sent)
                if q == "router blinks" and limit == 2 and offset <= 4:
                    assert not read_hits  # among the newest calls: no hit ordered
                if q == "zebra" and page:
                    assert read_hits  # hits in a burst among the oldest calls


# --- the list page -------------------------------------------------------------------------------


def test_a_search_page_marks_the_line_and_leaves_out_the_minus_words(
    staff_client, frozen_simulator, archive
):
    response = staff_client.get("/calls/", {"q": "refund -declined", "tz": "UTC"})
    html = response.content.decode()
    assert response.status_code == 200
    ids = [call.id for call, _ in response.context_data["call_rows"]]
    assert ids == [archive[3].id]
    assert "<mark>refund</mark>" in html


def test_a_hit_opens_its_call_with_the_wanted_words_in_the_find_box(staff_client, frozen_simulator):
    now = frozen_simulator.clock.now_us()
    call_id = next(
        call.id
        for call in frozen_simulator.data.calls
        if call.kind == "support"
        and call.status_at(now) == "ended"
        and gateway.get_client().get_call(call.id).transcript
    )
    response = staff_client.get(f"/calls/{call_id}/", {"find": '"Router  blinks" -evening'})
    assert response.status_code == 200
    assert response.context_data["find"] == "router blinks"
    assert 'value="router blinks"' in response.content.decode()
