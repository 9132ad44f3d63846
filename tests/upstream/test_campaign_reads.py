"""Campaigns through the cache (calls.upstream.reads): the list, one campaign, and the join from
its contacts to its calls' ids."""

import pytest

from calls.truedy.errors import NotFound
from calls.upstream import cache, reads
from tests.conftest import upstream_paths

pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

ACTIVE = "cmp_brightline_sales_202611"


def test_campaign_reads_are_cached_like_list_pages(frozen_simulator):
    reads.list_campaigns(page=1, per_page=25)
    reads.get_campaign(ACTIVE)
    reads.campaign_call_ids(ACTIVE)
    frozen_simulator.reset_requests()
    page = reads.list_campaigns(page=1, per_page=25)
    assert reads.get_campaign(ACTIVE) in page.campaigns
    assert len(reads.campaign_call_ids(ACTIVE).call_ids) == 41
    assert upstream_paths(frozen_simulator) == []


def test_a_changed_call_makes_campaign_reads_outdated(frozen_simulator):
    before = reads.get_campaign(ACTIVE)
    frozen_simulator.clock.advance(600)  # its live calls end
    cache.invalidate_call("any")  # what a webhook's follow-up does
    after = reads.get_campaign(ACTIVE)
    assert after.in_flight == 0 < before.in_flight


def test_the_join_lists_each_called_contacts_call_once_the_newest_first(frozen_simulator):
    found = reads.campaign_call_ids(ACTIVE)
    assert (found.contacts_read, found.total_contacts, found.complete) == (81, 81, True)
    created = [frozen_simulator.data.by_id[call_id].created for call_id in found.call_ids]
    assert created == sorted(created, reverse=True)
    pages = [path for path in upstream_paths(frozen_simulator) if path.endswith("/contacts")]
    assert len(pages) == 1  # 100 a request


def test_the_join_stops_at_its_cap_and_says_so(frozen_simulator, monkeypatch):
    monkeypatch.setattr(reads, "MAX_CAMPAIGN_CONTACTS", 30)
    found = reads.campaign_call_ids(ACTIVE)
    assert (found.contacts_read, found.total_contacts, found.complete) == (30, 81, False)
    assert len(found.call_ids) == 30  # its first 30 contacts were all called


def test_an_unknown_campaign_is_not_found_and_not_cached(frozen_simulator):
    for _ in range(2):
        with pytest.raises(NotFound):
            reads.campaign_call_ids("cmp_nothing_here")
    assert len(upstream_paths(frozen_simulator)) == 2
