"""Who gets Truedy's tokens when there are too few: first a page with nothing to show, then a
stale copy (or a call's list row) of what people keep asking for; a first asking with something
to show takes a free token or none, and so does a neighbouring list page."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache

from calls.truedy.filters import CallFilters
from calls.upstream import budget, gateway, reads, resilience
from calls.upstream import cache as upstream_cache
from calls.upstream.budget import LocalBucket, Priority
from calls.upstream.problems import BudgetExhausted
from tests.conftest import upstream_paths

pytestmark = pytest.mark.django_db


@pytest.fixture
def paced(settings, simulator, monkeypatch):
    """One token at a time, every ``interval`` seconds (a rolling rate), on the real clock."""
    settings.TRUEDY_BUDGET_WINDOW = 0
    settings.TRUEDY_BUDGET_BURST = 1
    settings.TRUEDY_BUDGET_RESERVE = 0
    bucket = LocalBucket()
    monkeypatch.setattr(budget, "_local", bucket)
    monkeypatch.setattr(budget, "_shared_bucket", lambda: bucket)

    def every(interval: float, *, page_wait: float) -> None:
        settings.TRUEDY_REQUESTS_PER_MINUTE = round(60 / interval)
        settings.TRUEDY_BUDGET_PAGE_WAIT = page_wait

    return every


def make_stale(**params) -> None:
    key = upstream_cache.list_key(params)
    entry = cache.get(key)
    cache.set(key, entry.__class__(entry.data, entry.fetched_at, 0.0), 600)


def test_a_page_refreshes_a_stale_copy_when_a_token_comes_within_its_wait(paced, simulator):
    paced(0.2, page_wait=1.0)
    with budget.priority(Priority.PAGE):
        reads.list_calls(limit=5)  # the one token: the next is 0.2 s away
        make_stale(limit=5)
        with resilience.collecting_stale_reads() as stale:
            reads.list_calls(limit=5)
    assert stale == [], "refreshed, not shown stale"
    assert len(upstream_paths(simulator)) == 2


def test_background_work_refreshes_a_stale_copy_only_with_a_free_token(paced, simulator):
    paced(0.5, page_wait=1.0)
    reads.list_calls(limit=5)
    make_stale(limit=5)
    started = time.monotonic()
    with resilience.collecting_stale_reads() as stale:
        reads.list_calls(limit=5)  # background: the copy at once, with its notice
    assert time.monotonic() - started < 0.3
    assert len(stale) == 1 and isinstance(stale[0].error, BudgetExhausted)


def test_a_page_with_nothing_to_show_waits_its_turn_the_first_time(paced, simulator):
    """A token 0.6 s away and a page that may wait 1.2 s: a list never read waits for it."""
    paced(0.6, page_wait=1.2)
    with budget.priority(Priority.PAGE):
        reads.list_agents()  # the one token
        started = time.monotonic()
        assert reads.list_calls(status="ended").calls
    assert 0.3 < time.monotonic() - started < 1.2
    assert len(upstream_paths(simulator)) == 2


def test_a_first_asking_with_a_stand_in_waits_half_its_turn_then_all_of_it(paced, simulator):
    """A call page has its row in the list to stand on: the first asking for a call waits only
    half the page's 2 s, so a token 1.5 s away is not for it; asked for again, the call is in
    demand and waits for it."""
    paced(1.5, page_wait=2.0)
    call_id = gateway.get_client().list_calls(limit=1).calls[0].id
    simulator.reset_requests()
    with budget.priority(Priority.PAGE), reads.list_row_standing_in():
        reads.list_agents()  # the one token
        started = time.monotonic()
        with pytest.raises(BudgetExhausted):
            reads.get_call(call_id)
        assert time.monotonic() - started < 0.2
    with budget.priority(Priority.PAGE), reads.list_row_standing_in():
        assert reads.get_call(call_id).id == call_id
    assert len(upstream_paths(simulator)) == 2


def test_a_stale_copy_asked_for_once_is_shown_and_in_demand_waits_its_turn(paced, simulator):
    paced(0.6, page_wait=2.0)
    with budget.priority(Priority.PAGE):
        reads.list_calls(limit=5)  # the one token
        make_stale(limit=5)
        cache.delete(upstream_cache.list_key({"limit": 5}) + ":demand")  # a minute went by
        with resilience.collecting_stale_reads() as stale:
            reads.list_calls(limit=5)  # first asking since: the copy, with its notice
        assert len(stale) == 1
    with budget.priority(Priority.PAGE), resilience.collecting_stale_reads() as stale:
        reads.list_calls(limit=5)  # asked for again: waits for the token, then fresh
    assert stale == []
    assert len(upstream_paths(simulator)) == 2


def test_a_page_with_nothing_goes_before_a_stale_copy_in_demand(paced, simulator, monkeypatch):
    """A token 1.5 s away and a page wait of 2 s: the page with nothing waits for it; the stale
    copy people keep asking for may wait only part of that (here half), and is shown with its
    notice."""
    monkeypatch.setattr(upstream_cache, "IN_DEMAND_WAIT", 0.5)
    paced(1.5, page_wait=2.0)
    with budget.priority(Priority.PAGE):
        reads.list_calls(limit=5)  # the one token; asked for once
        make_stale(limit=5)
        with resilience.collecting_stale_reads() as stale:
            reads.list_calls(limit=5)  # in demand, but 1.5 s is more than it may wait
        assert len(stale) == 1
    with budget.priority(Priority.PAGE):
        assert reads.list_calls(status="failed").calls
    assert len(upstream_paths(simulator)) == 2


def test_a_neighbouring_list_page_takes_a_free_token_or_none(paced, simulator):
    """The call last on page 10 of 10: its next neighbour is on page 11, in the next block of
    100 rows, never read, and no token is free. No waiting for one: the call page goes
    without that link."""
    paced(1.0, page_wait=5.0)
    with budget.priority(Priority.PAGE):
        listing = reads.list_calls(limit=10, offset=90)  # the one token
        started = time.monotonic()
        with pytest.raises(BudgetExhausted):
            reads.find_neighbours(listing.calls[-1].id, page=10, per_page=10, filters=CallFilters())
        assert time.monotonic() - started < 0.3
    assert len(upstream_paths(simulator)) == 1


def test_neighbours_follow_the_list_as_it_was_seen_stale_or_not(paced, simulator):
    """The list a call was opened from, stale now but read a moment ago: its previous and next
    come from that copy, with no request and no notice (the links are the rows the person saw)."""
    paced(1.0, page_wait=5.0)
    with budget.priority(Priority.PAGE):
        listing = reads.list_calls(limit=25)  # the one token
        make_stale(limit=25)
        with resilience.collecting_stale_reads() as stale:
            found = reads.find_neighbours(
                listing.calls[3].id, page=1, per_page=25, filters=CallFilters()
            )
    assert found is not None and found.previous.call_id == listing.calls[2].id
    assert found.next.call_id == listing.calls[4].id
    assert stale == []
    assert len(upstream_paths(simulator)) == 1


def test_a_list_seen_long_ago_is_not_what_neighbours_follow(paced, simulator, settings):
    paced(5.0, page_wait=1.0)
    listing = reads.list_calls(limit=25)  # the one token
    key = upstream_cache.list_key({"limit": 25})
    entry = cache.get(key)
    long_ago = entry.fetched_at - timedelta(seconds=reads.SEEN_LIST_SECONDS + 1)
    cache.set(key, entry.__class__(entry.data, long_ago, 0.0), 600)
    with budget.priority(Priority.PAGE), resilience.collecting_stale_reads() as stale:
        reads.find_neighbours(listing.calls[3].id, page=1, per_page=25, filters=CallFilters())
    assert len(stale) == 1, "no free token: that old copy, with its notice"
    assert len(upstream_paths(simulator)) == 1


def test_a_call_read_with_no_list_row_to_stand_on_waits_its_turn(paced, simulator):
    """Opened from a link (or a recording fetched), nothing stands in: the call waits."""
    paced(0.6, page_wait=2.0)
    call_id = gateway.get_client().list_calls(limit=1).calls[0].id
    simulator.reset_requests()
    with budget.priority(Priority.PAGE):
        reads.list_agents()  # the one token
        assert reads.get_call(call_id).id == call_id
    assert len(upstream_paths(simulator)) == 2
