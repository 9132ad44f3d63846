"""Review queues (calls/services/review_queue.py): a view's calls read once, walked in list
order, each call claimed by one reviewer at a time."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections
from django.test import RequestFactory

from calls.archive.store import store_call
from calls.models import ArchivedCall, Review, ReviewSample
from calls.services import review_queue, reviews
from calls.services.review_queue import Queue
from calls.truedy.filters import CallFilters
from calls.upstream import reads
from tests.conftest import upstream_paths
from tests.reviews.conftest import ended_calls

pytestmark = pytest.mark.django_db

FAILED = CallFilters(status="failed")


def every_id(**filters) -> list[str]:
    found: list[str] = []
    while True:
        page = reads.list_calls(**filters, limit=100, offset=len(found))
        found += [call.id for call in page.calls]
        if not page.has_more:
            return found


def verdict(user, call_id: str, value: str = "pass"):
    request = RequestFactory().post("/")
    request.user = user
    return reviews.record_review(request, call_id=call_id, verdict=value)


# --- the queue's calls ------------------------------------------------------------------------


def test_a_queue_holds_the_views_calls_in_list_order(frozen_simulator):
    expected = every_id(status="failed")
    frozen_simulator.reset_requests()
    taken = review_queue.snapshot(Queue(FAILED))
    assert list(taken.call_ids) == expected
    assert list(taken.list_positions) == list(range(len(expected)))
    assert len(upstream_paths(frozen_simulator)) == -(-len(expected) // 100)  # pages of 100


def test_later_steps_read_the_kept_ids_and_ask_truedy_nothing(frozen_simulator):
    first = review_queue.snapshot(Queue(FAILED))
    frozen_simulator.reset_requests()
    assert review_queue.snapshot(Queue(FAILED)) == first
    review_queue.progress(Queue(FAILED), current=first.call_ids[3])
    assert upstream_paths(frozen_simulator) == []
    review_queue.snapshot(Queue(FAILED), refresh=True)
    assert upstream_paths(frozen_simulator) != []


def test_a_search_queue_reads_the_archive_only(frozen_simulator):
    for call in ended_calls(frozen_simulator, 3):
        store_call(call, source="sync")
    ArchivedCall.objects.filter(pk=ArchivedCall.objects.first().pk).update(
        search_text="contact: my router blinks amber"
    )
    frozen_simulator.reset_requests()
    taken = review_queue.snapshot(Queue(CallFilters(q="amber router")))
    assert len(taken.call_ids) == 1
    assert upstream_paths(frozen_simulator) == []


def test_a_queue_larger_than_the_limit_holds_the_newest_and_says_so(frozen_simulator, monkeypatch):
    monkeypatch.setattr(review_queue, "MAX_QUEUE_CALLS", 5)
    taken = review_queue.snapshot(Queue(FAILED))
    assert list(taken.call_ids) == every_id(status="failed")[:5]
    assert taken.truncated
    assert review_queue.progress(Queue(FAILED)).truncated


def test_a_sample_counts_only_calls_created_before_its_cutoff(frozen_simulator, reviewer):
    listed = reads.list_calls(status="failed", limit=20).calls
    cutoff = listed[9].created_at  # the 9 newer calls "arrived after the sample was drawn"
    sample = ReviewSample.objects.create(
        query="status=failed&tz=UTC", seed="s1", size=5, cutoff=cutoff, created_by=reviewer
    )
    before_cutoff = every_id(status="failed", created_before=cutoff)
    taken = review_queue.snapshot(Queue(FAILED, sample))
    assert len(taken.call_ids) == 5
    assert set(taken.call_ids) <= set(before_cutoff)
    assert not set(taken.call_ids) & {call.id for call in listed[:9]}
    # Each call's place in the whole list (for the call page's neighbours), not in the sample.
    full = every_id(status="failed")
    assert [full[place] for place in taken.list_positions] == list(taken.call_ids)


def test_parts_of_a_sample_split_it(frozen_simulator, reviewer):
    sample = ReviewSample.objects.create(
        query="status=failed&tz=UTC",
        seed="s2",
        percent=40,
        cutoff=datetime.now(UTC),
        created_by=reviewer,
    )
    from calls.services.sampling import Part

    whole = review_queue.snapshot(Queue(FAILED, sample)).call_ids
    parts = [review_queue.snapshot(Queue(FAILED, sample, Part(k, 3))).call_ids for k in (1, 2, 3)]
    assert sorted(call_id for part in parts for call_id in part) == sorted(whole)


# --- claims and the next call ------------------------------------------------------------------


@pytest.mark.shared_backends
def test_two_reviewers_on_one_queue_never_get_the_same_call(frozen_simulator, reviewer, teammate):
    queue = Queue(FAILED)
    ids = review_queue.snapshot(queue).call_ids
    mine = review_queue.next_call(queue, user_id=reviewer.pk)
    theirs = review_queue.next_call(queue, user_id=teammate.pk)
    assert (mine, theirs) == (ids[0], ids[1])
    assert review_queue.holder(mine) == reviewer.pk and review_queue.holder(theirs) == teammate.pk
    # Starting again gives each their own call back.
    assert review_queue.next_call(queue, user_id=teammate.pk) == theirs
    assert review_queue.next_call(queue, user_id=reviewer.pk) == mine


@pytest.mark.shared_backends
def test_after_a_verdict_the_next_unreviewed_unclaimed_call(frozen_simulator, reviewer, teammate):
    queue = Queue(FAILED)
    ids = review_queue.snapshot(queue).call_ids
    verdict(teammate, ids[1])  # reviewed earlier by someone else
    review_queue.claim(ids[2], teammate.pk)  # a teammate is on it
    first = review_queue.next_call(queue, user_id=reviewer.pk)
    assert first == ids[0]
    verdict(reviewer, first)
    assert review_queue.next_call(queue, user_id=reviewer.pk, after=first) == ids[3]
    assert review_queue.holder(first) is None, "the verdict's call was given back"


def test_a_skip_goes_on_and_wraps_round(frozen_simulator, reviewer):
    queue = Queue(FAILED)
    ids = review_queue.snapshot(queue).call_ids
    last = ids[-1]
    review_queue.claim(last, reviewer.pk)
    assert review_queue.next_call(queue, user_id=reviewer.pk, after=last) == ids[0]
    assert review_queue.holder(last) is None


def test_a_claim_runs_out(frozen_simulator, reviewer, teammate, settings):
    settings.REVIEW_CLAIM_SECONDS = 300
    queue = Queue(FAILED)
    ids = review_queue.snapshot(queue).call_ids
    assert review_queue.next_call(queue, user_id=reviewer.pk) == ids[0]
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=301)):
        assert review_queue.next_call(queue, user_id=teammate.pk) == ids[0]


def test_someone_who_only_looks_claims_nothing(frozen_simulator, reviewer, viewer):
    queue = Queue(FAILED)
    ids = review_queue.snapshot(queue).call_ids
    assert review_queue.next_call(queue, user_id=viewer.pk, claiming=False) == ids[0]
    assert review_queue.holder(ids[0]) is None
    assert review_queue.next_call(queue, user_id=reviewer.pk) == ids[0]


def test_a_teammates_claim_is_not_released_by_someone_else(frozen_simulator, reviewer, teammate):
    review_queue.claim("call_x", teammate.pk)
    review_queue.release("call_x", reviewer.pk)
    assert review_queue.holder("call_x") == teammate.pk
    assert not review_queue.claim("call_x", reviewer.pk)


def test_nothing_left_is_none(frozen_simulator, reviewer, teammate):
    queue = Queue(CallFilters(status="failed", direction="inbound"))
    ids = review_queue.snapshot(queue).call_ids
    for call_id in ids[:-1]:
        verdict(teammate, call_id)
    review_queue.claim(ids[-1], teammate.pk)
    assert review_queue.next_call(queue, user_id=reviewer.pk) is None
    tally = review_queue.tally(queue, user_id=reviewer.pk)
    assert tally.claimed_by_others == 1
    assert tally.progress.reviewed == len(ids) - 1
    assert tally.verdicts == {"pass": len(ids) - 1, "fail": 0, "follow-up": 0}


def test_progress_counts_reviewed_calls_and_the_current_place(frozen_simulator, reviewer):
    queue = Queue(FAILED)
    ids = review_queue.snapshot(queue).call_ids
    for call_id in ids[:10]:
        verdict(reviewer, call_id)
    verdict(reviewer, ids[0], "fail")  # reviewed twice: still one call
    progress = review_queue.progress(queue, current=ids[11])
    assert (progress.reviewed, progress.total, progress.position) == (10, len(ids), 12)
    assert progress.percent == 10 * 100 // len(ids)
    assert progress.remaining == len(ids) - 10


@pytest.mark.shared_backends
@pytest.mark.django_db(transaction=True)
def test_reviewers_starting_at_once_each_get_a_call_of_their_own(
    frozen_simulator, django_user_model
):
    """Eight reviewers start the same queue at the same moment (threads, one cache)."""
    from tests.reviews.conftest import person

    people = [person(django_user_model, f"r{n}", "Reviewer") for n in range(8)]
    queue = Queue(FAILED)
    review_queue.snapshot(queue)
    barrier = threading.Barrier(len(people))
    given: list[str | None] = []

    def start(user_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            given.append(review_queue.next_call(queue, user_id=user_id))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(user.pk,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(given) == 8 and None not in given
    assert len(set(given)) == 8, "two reviewers were given the same call"


@pytest.mark.shared_backends
@pytest.mark.django_db(transaction=True)
def test_concurrent_verdicts_on_one_call_are_all_kept(django_user_model):
    if connection.vendor == "sqlite":
        pytest.skip(
            "threads cannot write one in-memory SQLite database at once; `make test` runs "
            "this in its PostgreSQL pass (make test-shared-backends)"
        )
    from tests.reviews.conftest import person

    people = [person(django_user_model, f"c{n}", "Reviewer") for n in range(6)]
    barrier = threading.Barrier(len(people))
    errors: list[Exception] = []

    def judge(user) -> None:
        try:
            barrier.wait(timeout=10)
            verdict(user, "call_busy", "fail" if user.pk % 2 else "pass")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=judge, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Review.objects.filter(call_id="call_busy").count() == 6
    latest = reviews.latest_reviews(["call_busy"])["call_busy"]
    assert latest == Review.objects.filter(call_id="call_busy").order_by("-at", "-id").first()
