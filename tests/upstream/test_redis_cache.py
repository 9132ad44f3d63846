"""A deploy of the layered layout keeps its warm cache: values pickled under the old module
paths still read, and no cache key string changed.

The ``OLD_*`` values below were pickled by the release before the layout (commit 822a864) with
``pickle.HIGHEST_PROTOCOL``, as Django's Redis cache stores them; they name ``calls.services``,
``calls.records`` and ``calls.totals``.
"""

import base64
from datetime import UTC, date, datetime

import pytest
from django.core.cache import caches

from calls.services.totals import Totals
from calls.truedy.records import Agent, Call, CallPage
from calls.upstream import cache
from calls.upstream.redis_cache import MOVED, MovedClassesSerializer, SharedClientRedisCache

# Keys as release 1 made them (same parameters, computed by its own code).
OLD_KEYS = {
    "list defaults": "truedy:v2:calls:"
    "f29541fb5ff97955914d74b6bc5f53bcc70a731360837111b8d79bd6f42c3d76",
    "ended page 2": "truedy:v2:calls:"
    "cb4dc6234d4b4fd86cb44365c11090586e84d6cc7b480a9b748e24605ca4c85d",
    "call": "truedy:v2:call:69f1822b4712e6abf568876ba3f7eeca14acdf78a10d274f1715d345a0a518d3",
    "totals": "truedy:v2:totals:d8bebe3fce9ac1d9012f51a2fca56d3754733cd96afeb62edce9831d27849c46",
}

OLD_CALL_ENTRY = (
    "gAWVaAEAAAAAAACMDmNhbGxzLnNlcnZpY2VzlIwFRW50cnmUk5QpgZRdlCiMDWNhbGxzLnJlY29yZHOUjA1fcmVi"
    "dWlsZF9jYWxslJOUKIwJY2FsbF9vbGQxlIwFYWd0XzGUjAVlbmRlZJSMCG91dGJvdW5klIwIZGF0ZXRpbWWUjAhk"
    "YXRldGltZZSTlEMKB+kDBAoAAAAAAJRoDIwIdGltZXpvbmWUk5RoDIwJdGltZWRlbHRhlJOUSwBLAEsAh5RSlIWU"
    "UpSGlFKUaBloGWgZjAgrNDkzMDEyM5SMCCs0OTMwOTk5lEsqSxGMCmludGVyZXN0ZWSUjAdCb29rZWQulGgFjARU"
    "dXJulJOUKYGUXZQojAVhZ2VudJSMBkhlbGxvLpRHAAAAAAAAAABlYmgfKYGUXZQojAdjb250YWN0lIwDSGkulEc/"
    "+AAAAAAAAGVihpROfZSMAWuUjAF2lHN0lFKUaBlHQF7AAAAAAABlYi4="
)
OLD_PAGE_ENTRY = (
    "gAWVhwEAAAAAAACMDmNhbGxzLnNlcnZpY2VzlIwFRW50cnmUk5QpgZRdlCiMDWNhbGxzLnJlY29yZHOUjAhDYWxs"
    "UGFnZZSTlCmBlF2UKGgFjA1fcmVidWlsZF9jYWxslJOUKIwJY2FsbF9vbGQxlIwFYWd0XzGUjAVlbmRlZJSMCG91"
    "dGJvdW5klIwIZGF0ZXRpbWWUjAhkYXRldGltZZSTlEMKB+kDBAoAAAAAAJRoEIwIdGltZXpvbmWUk5RoEIwJdGlt"
    "ZWRlbHRhlJOUSwBLAEsAh5RSlIWUUpSGlFKUaB1oHWgdjAgrNDkzMDEyM5SMCCs0OTMwOTk5lEsqSxGMCmludGVy"
    "ZXN0ZWSUjAdCb29rZWQulGgFjARUdXJulJOUKYGUXZQojAVhZ2VudJSMBkhlbGxvLpRHAAAAAAAAAABlYmgjKYGU"
    "XZQojAdjb250YWN0lIwDSGkulEc/+AAAAAAAAGVihpROfZSMAWuUjAF2lHN0lFKUhZRLAUsZSwBlYmgdR0BewAAA"
    "AAAAZWIu"
)
OLD_AGENTS_ENTRY = (
    "gAWVvgAAAAAAAACMDmNhbGxzLnNlcnZpY2VzlIwFRW50cnmUk5QpgZRdlCiMDWNhbGxzLnJlY29yZHOUjAVBZ2Vu"
    "dJSTlCmBlF2UKIwFYWd0XzGUjANBZGGUjAZhY3RpdmWUZWKFlIwIZGF0ZXRpbWWUjAhkYXRldGltZZSTlEMKB+kD"
    "BAoAAAAAAJRoDowIdGltZXpvbmWUk5RoDowJdGltZWRlbHRhlJOUSwBLAEsAh5RSlIWUUpSGlFKUR0BewAAAAAAA"
    "ZWIu"
)
OLD_TOTALS_ENTRY = (
    "gAWV5wAAAAAAAACMDmNhbGxzLnNlcnZpY2VzlIwFRW50cnmUk5QpgZRdlCiMDGNhbGxzLnRvdGFsc5SMBlRvdGFs"
    "c5STlCmBlF2UKEsBSwFLAUsqSxGMCmludGVyZXN0ZWSUSwGGlIWUjAhkYXRldGltZZSMBGRhdGWUk5RDBAfpAwSU"
    "hZRSlEsBhpSFlIwGdHJ1ZWR5lGViaA2MCGRhdGV0aW1llJOUQwoH6QMECgAAAAAAlGgNjAh0aW1lem9uZZSTlGgN"
    "jAl0aW1lZGVsdGGUk5RLAEsASwCHlFKUhZRSlIaUUpRHQF7AAAAAAABlYi4="
)

WHEN = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def old(value: tuple[str, ...] | str) -> bytes:
    return base64.b64decode("".join(value))


def test_the_old_values_name_the_old_modules():
    pickled = b"".join(old(v) for v in (OLD_CALL_ENTRY, OLD_TOTALS_ENTRY, OLD_AGENTS_ENTRY))
    assert b"calls.services" in pickled and b"calls.records" in pickled
    assert b"calls.totals" in pickled


def test_a_call_entry_pickled_by_the_old_layout_reads():
    entry = MovedClassesSerializer().loads(old(OLD_CALL_ENTRY))
    assert isinstance(entry, cache.Entry)
    assert entry.fetched_at == WHEN and entry.fresh_until == 123.0
    call = entry.data
    assert isinstance(call, Call)
    assert (call.id, call.status, call.cost_cents, call.duration_seconds) == (
        "call_old1",
        "ended",
        17,
        42,
    )
    assert [turn.text for turn in call.transcript] == ["Hello.", "Hi."]
    assert dict(call.metadata) == {"k": "v"}


def test_a_list_page_agents_and_totals_pickled_by_the_old_layout_read():
    serializer = MovedClassesSerializer()
    page = serializer.loads(old(OLD_PAGE_ENTRY)).data
    assert isinstance(page, CallPage) and page.total == 1 and page.calls[0].id == "call_old1"
    agents = serializer.loads(old(OLD_AGENTS_ENTRY)).data
    assert agents == (Agent(id="agt_1", name="Ada", status="active"),)
    totals = serializer.loads(old(OLD_TOTALS_ENTRY)).data
    assert isinstance(totals, Totals)
    assert totals.count == 1 and totals.per_day == ((date(2025, 3, 4), 1),)


def test_every_moved_name_exists_where_it_now_lives():
    import importlib

    for (_, name), module in MOVED.items():
        assert hasattr(importlib.import_module(module), name), f"{module}.{name}"


def test_the_cache_keys_did_not_change():
    assert cache.list_key({}) == OLD_KEYS["list defaults"]
    assert (
        cache.list_key({"status": "ended", "limit": 50, "offset": 50}) == OLD_KEYS["ended page 2"]
    )
    assert cache.call_key("call_abc") == OLD_KEYS["call"]
    filters = {
        "agent_id": None,
        "status": "failed",
        "direction": None,
        "created_after": datetime(2026, 11, 1, tzinfo=UTC),
        "created_before": None,
    }
    assert cache.totals_key(filters, "Europe/Berlin") == OLD_KEYS["totals"]


@pytest.mark.shared_backends
def test_redis_serves_an_entry_written_by_the_old_release():
    """On Redis (make test-shared-backends): the raw bytes release 1 stored under a key come back
    through Django's cache as the entry."""
    django_cache = caches["default"]
    if not isinstance(django_cache, SharedClientRedisCache):
        pytest.skip("the cache is not Redis here; make test-shared-backends runs this on Redis")
    key = OLD_KEYS["call"]
    client = django_cache._cache.get_client(key, write=True)
    client.set(django_cache.make_and_validate_key(key), old(OLD_CALL_ENTRY), ex=60)
    try:
        entry = django_cache.get(key)
    finally:
        django_cache.delete(key)
    assert isinstance(entry, cache.Entry) and entry.data.id == "call_old1"
