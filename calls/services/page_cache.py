"""Rendered pieces of pages kept in the Django cache, keyed by everything they show.

A cached list page spent most of its time on its rows: two queries for their verdicts and
outcomes after corrections, then building 50 ``<tr>``s. The rows' HTML is kept here under a
digest of every input that can change a byte of it (the calls as this viewer may see them,
masked or not, the search's matching lines, the list's query, the agents' names, the time zone,
each row's live state at this moment, its media), so a different viewer, zone, page or state
is a different entry and never another's.

What the digest cannot see, the review work on the rows, is a *generation*: one counter every
verdict, outcome correction and user (a reviewer's name) saved bumps (``connect_signals``). An
entry keeps the generation it was built at and counts only while that is still the current
one, so a verdict shows on the list at once. Generation and entry come in one cache round trip.
With the cache down nothing is kept and every page builds its rows, as before.
"""

import hashlib
import pickle
import time
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save

from calls.models import OutcomeCorrection, Review
from calls.upstream import resilience
from calls.upstream.keys import PAGE_CACHE_PREFIX

GENERATION_KEY = f"{PAGE_CACHE_PREFIX}:generation"
# A generation outlives every entry built at it (a lost counter only empties the cache).
GENERATION_SECONDS = 7 * 24 * 3600
# Bumps also bound what no digest or generation covers (a deploy's new templates): a minute.
ENTRY_SECONDS = 60


def entry_key(kind: str, parts: Hashable | tuple[Any, ...]) -> str:
    """``truedy:v1:page-cache:<kind>:<digest of parts>``; ``parts`` must pickle the same for
    the same content (plain values, frozen dataclasses, dicts built in a fixed order)."""
    digest = hashlib.blake2b(pickle.dumps(parts, protocol=5), digest_size=20).hexdigest()
    return f"{PAGE_CACHE_PREFIX}:{kind}:{digest}"


def cached_html(key: str, build: Callable[[], str]) -> str:
    """The HTML kept under ``key`` at the current generation, else ``build()``, kept."""
    found = resilience.safe_get_many([GENERATION_KEY, key])
    generation = found.get(GENERATION_KEY)
    if generation is None:  # lost (or never set): no entry can be trusted; start a new one
        _start_generation()
        return build()
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == generation:
        return str(entry[1])
    html = build()
    resilience.safe_set(key, (generation, html), _entry_seconds())
    return html


def bump(**_: Any) -> None:
    """Every entry built so far stops counting (a signal receiver, or called directly)."""
    if not _start_generation():
        resilience.safe_incr(GENERATION_KEY, GENERATION_SECONDS)


def _start_generation() -> bool:
    """A new counter where there was none, at a value no earlier counter had (the clock in
    nanoseconds: a counter the cache lost never comes back to an old entry's number)."""
    return resilience.safe_add(GENERATION_KEY, time.time_ns(), GENERATION_SECONDS)


def connect_signals() -> None:
    """Bump on every write the cached pieces show (verdicts, corrections, users' names), and
    the permissions' generation on every change of who holds which permission."""
    user_model = get_user_model()
    for model in (Review, OutcomeCorrection, user_model):
        for signal in (post_save, post_delete):
            signal.connect(bump, sender=model, dispatch_uid=f"page_cache.{model.__name__}")
    for holder in (user_model, Group, Permission):
        for signal in (post_save, post_delete):
            signal.connect(
                bump_permissions, sender=holder, dispatch_uid=f"page_cache.perms.{holder.__name__}"
            )
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            bump_permissions, sender=through, dispatch_uid=f"page_cache.perms.{through.__name__}"
        )


# --- a user's permissions, shared by their requests ----------------------------------------------

PERMISSIONS_GENERATION_KEY = f"{PAGE_CACHE_PREFIX}:permissions-generation"


def prime_permissions(user: Any) -> None:
    """Give ``user`` the permissions Django's ModelBackend would read for this request (two
    queries) from the cache, where an earlier request of theirs left them.

    They count only at the permissions' generation they were read at: any change of a user's
    groups or permissions, of a group's permissions or of a user bumps it (``connect_signals``).
    A change that bypasses the ORM (raw SQL) shows within ``ENTRY_SECONDS``.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return
    if hasattr(user, "_perm_cache"):
        return  # this request read them already
    key = f"{PAGE_CACHE_PREFIX}:permissions:{user.pk}"
    found = resilience.safe_get_many([PERMISSIONS_GENERATION_KEY, key])
    generation = found.get(PERMISSIONS_GENERATION_KEY)
    if generation is None:
        resilience.safe_add(PERMISSIONS_GENERATION_KEY, time.time_ns(), GENERATION_SECONDS)
        return  # Django reads them itself
    entry = found.get(key)
    if (
        isinstance(entry, tuple)
        and len(entry) == 4
        and entry[0] == generation
        and entry[1] == user.is_superuser
    ):
        user._user_perm_cache, user._group_perm_cache = set(entry[2]), set(entry[3])
        user._perm_cache = {*entry[2], *entry[3]}
        return
    backend = ModelBackend()
    own, groups = backend.get_user_permissions(user), backend.get_group_permissions(user)
    entry = (generation, user.is_superuser, frozenset(own), frozenset(groups))
    resilience.safe_set(key, entry, _entry_seconds())


def bump_permissions(**_: Any) -> None:
    """Every user's cached permissions stop counting."""
    if not resilience.safe_add(PERMISSIONS_GENERATION_KEY, time.time_ns(), GENERATION_SECONDS):
        resilience.safe_incr(PERMISSIONS_GENERATION_KEY, GENERATION_SECONDS)


def _entry_seconds() -> int:
    return int(getattr(settings, "PAGE_CACHE_SECONDS", ENTRY_SECONDS))
