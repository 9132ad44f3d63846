"""Django's Redis cache, with one redis-py client per connection pool instead of one per call,
and values pickled before the layered layout still read.

Django builds a new ``redis.Redis`` for every cache operation, and its constructor (response
callbacks and all) costs about 0.2 ms: on a cached call page that was a sixth of the server
time. A ``redis.Redis`` is safe to share between threads (each command borrows a connection from
the pool), so one per pool is kept.

Cached values are pickles, which name their classes by module. Release 2 moved ``Entry``,
``Call``, ``CallPage``, ``Agent``, ``Turn`` and ``Totals`` into the layered packages; an entry
written by release 1 names the old modules. ``MOVED`` maps those names, so a deploy keeps its warm
cache (and its stale-if-error fallbacks) instead of turning every old entry into a miss. Old
entries are gone one ``CACHE_STALE_WINDOW`` (24 h) after the deploy; the table can go with the
release after.
"""

import io
import pickle
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient, RedisSerializer

# (old module, name) -> new module, for classes and functions a cached pickle may name.
MOVED: dict[tuple[str, str], str] = {
    ("calls.services", "Entry"): "calls.upstream.cache",
    ("calls.records", "Call"): "calls.truedy.records",
    ("calls.records", "_rebuild_call"): "calls.truedy.records",
    ("calls.records", "CallPage"): "calls.truedy.records",
    ("calls.records", "Agent"): "calls.truedy.records",
    ("calls.records", "Turn"): "calls.truedy.records",
    ("calls.totals", "Totals"): "calls.services.totals",
}


class _MovedClassesUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED.get((module, name), module), name)


class MovedClassesSerializer(RedisSerializer):
    """Django's pickle serializer, reading old module paths through ``MOVED``."""

    def loads(self, data: Any) -> Any:
        try:
            return int(data)
        except ValueError:
            return _MovedClassesUnpickler(io.BytesIO(data)).load()


class SharedClientRedisCacheClient(RedisCacheClient):
    # Set and defined by Django's RedisCacheClient; private, so django-stubs leaves them out.
    _client: Callable[..., Any]  # redis.Redis

    if TYPE_CHECKING:

        def _get_connection_pool(self, write: bool) -> Any: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", MovedClassesSerializer)
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
