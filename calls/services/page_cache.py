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

Whole pages (``kept_page``/``keep_page``): a cached list or call page asked for again is the
same bytes as long as nothing it shows has changed, so it is kept whole, per viewer (``viewer``:
role, masking, saved views; a person only while a reveal of theirs runs), address and time
zone, and served again with this request's CSRF token, CSP nonce, signed-in name and poll token
put in. It counts while every generation it was built at is current (the
review work above; the *pages* generation that any other write a page shows bumps; the
permissions'; Truedy's "a call changed" instant), until the earliest moment what it read stops
being fresh (calls.upstream.cache.noting_freshness) or its rows change by themselves (a link
expiring, an analysis due, a reveal ending), and at most ``ENTRY_SECONDS``: until then a page
built again would be the same bytes. Never kept: a live call's page (its running time), pages
read from the archive (bulk writes bump nothing), stale answers, messages, anything but a 200.
Writes that bypass the ORM's signals (``update()``) bump by hand or show within those bounds.
"""

import dataclasses
import hashlib
import pickle
import re
import secrets
import struct
import time
import zlib
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse

# Unmasking tells this session's tokens from any other 64 letters a page holds (Django's own,
# as its CSRF check does; not in its stubs).
from django.middleware.csrf import _unmask_cipher_token, get_token  # type: ignore[attr-defined]
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.html import escape

from calls.models import OutcomeCorrection, PersonalDataReveal, Review, SavedView
from calls.services import roles
from calls.upstream import cache, gateway, resilience
from calls.upstream.cache import LISTS_CHANGED_KEY
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
    the permissions' generation on every change of who holds which permission; the pages'
    generation on a write to any of the app's models a page can show."""
    user_model = get_user_model()
    for model in (Review, OutcomeCorrection, user_model):
        for signal in (post_save, post_delete):
            signal.connect(bump, sender=model, dispatch_uid=f"page_cache.{model.__name__}")
    for shown in apps.get_app_config("calls").get_models():
        if shown.__name__ in NOT_SHOWN:
            continue
        for signal in (post_save, post_delete):
            signal.connect(
                bump_pages, sender=shown, dispatch_uid=f"page_cache.pages.{shown.__name__}"
            )
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


def prime_permissions(user: Any, reads: dict[str, Any] | None = None) -> frozenset[str] | None:
    """Give ``user`` the permissions Django's ModelBackend would read for this request (two
    queries) from the cache, where an earlier request of theirs left them; and return the names
    of their groups (None with the cache down, or for nobody signed in).

    They count only at the permissions' generation they were read at: any change of a user's
    groups or permissions, of a group's permissions or of a user bumps it (``connect_signals``).
    A change that bypasses the ORM (raw SQL) shows within ``ENTRY_SECONDS``. ``reads``: the
    cache's answers already read for this request (``_reads``), else one round trip.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    primed: Any = getattr(user, "_page_cache_groups", _UNREAD)
    if primed is not _UNREAD:
        return cast(frozenset[str] | None, primed)  # this request read them already
    key = _permissions_key(user.pk)
    found = reads
    if found is None:
        found = resilience.safe_get_many([PERMISSIONS_GENERATION_KEY, key])
    generation = found.get(PERMISSIONS_GENERATION_KEY)
    if generation is None:
        resilience.safe_add(PERMISSIONS_GENERATION_KEY, time.time_ns(), GENERATION_SECONDS)
        user._page_cache_groups = None
        return None  # Django reads them itself
    entry = found.get(key)
    if (
        isinstance(entry, tuple)
        and len(entry) == 5
        and entry[0] == generation
        and entry[1] == user.is_superuser
    ):
        user._user_perm_cache, user._group_perm_cache = set(entry[2]), set(entry[3])
        user._perm_cache = {*entry[2], *entry[3]}
        user._page_cache_groups = entry[4]
        return cast(frozenset[str], entry[4])
    backend = ModelBackend()
    own, groups = backend.get_user_permissions(user), backend.get_group_permissions(user)
    names = frozenset(user.groups.values_list("name", flat=True))
    entry = (generation, user.is_superuser, frozenset(own), frozenset(groups), names)
    resilience.safe_set(key, entry, _entry_seconds())
    user._page_cache_groups = names
    return names


_UNREAD = object()


def _permissions_key(user_pk: Any) -> str:
    return f"{PAGE_CACHE_PREFIX}:permissions:{user_pk}"


def bump_permissions(**_: Any) -> None:
    """Every user's cached permissions stop counting."""
    if not resilience.safe_add(PERMISSIONS_GENERATION_KEY, time.time_ns(), GENERATION_SECONDS):
        resilience.safe_incr(PERMISSIONS_GENERATION_KEY, GENERATION_SECONDS)


def _entry_seconds() -> int:
    return int(getattr(settings, "PAGE_CACHE_SECONDS", ENTRY_SECONDS))


# --- whole pages ----------------------------------------------------------------------------------

PAGES_GENERATION_KEY = f"{PAGE_CACHE_PREFIX}:pages-generation"
# Written on every page view or in the background, and shown on no kept page: they bump nothing.
NOT_SHOWN = frozenset({"AuditEvent", "WebhookEvent", "WorkerHeartbeat", "SyncCursor"})
# What stands in a kept page for this request's CSRF token and CSP nonce: derived from the
# secret key, so nobody can put them in a transcript to have them replaced.
CSRF_MARK = "csrf-" + salted_hmac("page_cache.csrf", "mark").hexdigest()[:40]
NONCE_MARK = "nonce-" + salted_hmac("page_cache.nonce", "mark").hexdigest()[:40]
# ... and for the viewer's name in the header, and a call page's poll token (signed for them).
WHO_MARK = "who-" + salted_hmac("page_cache.who", "mark").hexdigest()[:40]
POLL_MARK = "poll-" + salted_hmac("page_cache.poll", "mark").hexdigest()[:40]
# The header's name (templates/base.html): an id, so one on a page, and what a page shows of
# its calls is escaped (no "<"): nothing else on a page reads the same.
_WHO_SPAN = '<span class="who" id="signed-in-as">{}</span>'
# A masked CSRF token as Django renders it (``{% csrf_token %}``, the htmx header).
_TOKEN = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


@dataclasses.dataclass(frozen=True, slots=True)
class KeptPage:
    generations: tuple[Any, ...]
    until: float  # time.time()
    check: Any
    status: int
    headers: tuple[tuple[str, str], ...]
    # The body cut at each CSRF_MARK or NONCE_MARK (``marks``, in order), and each piece
    # compressed on its own: a gzipped answer is these pieces and the fresh token and nonce,
    # each compressed alone, one after the other (``_gzipped``).
    parts: tuple[bytes, ...]
    marks: tuple[bytes, ...]
    deflated: tuple[bytes, ...]


@dataclasses.dataclass(slots=True)
class PageBuild:
    """A page being built after a miss: the generations it is built at, read before it read
    anything, and the moments it stops being true."""

    key: str
    check: Any
    generations: tuple[Any, ...] | None
    bounds: list[float] = dataclasses.field(default_factory=list)
    noted: list[float] = dataclasses.field(default_factory=list)
    refused: bool = False
    # Text of this viewer's own on the page (a token signed for them) -> the mark it becomes.
    personal: dict[str, str] = dataclasses.field(default_factory=dict)

    def until(self, moment: datetime | float | None) -> None:
        """What the page shows changes by itself at ``moment`` (gateway time, or time.time());
        a moment already past has changed it already."""
        if isinstance(moment, datetime):
            moment = time.time() + (moment - gateway.now()).total_seconds()
        if moment is not None and moment > time.time():
            self.bounds.append(moment)

    def refuse(self) -> None:
        """This page is not to be kept (live rows, read from the archive, ...)."""
        self.refused = True


# Cookies a page's template reads (the totals strip left open).
PAGE_COOKIES = ("totals_open",)


def page_key(request: HttpRequest, kind: str, *parts: Hashable, saved_views: bool = False) -> str:
    """A page as this viewer asked for it (``viewer``; ``saved_views``: the page shows theirs):
    path, query, the htmx target, the time zone, the cookies its template reads."""
    htmx = getattr(request, "htmx", None)
    asked = (
        (htmx.target, htmx.boosted, htmx.history_restore_request, htmx.trigger) if htmx else None
    )
    zone = getattr(request, "viewer_zone", None)
    return entry_key(
        f"page:{kind}",
        (
            viewer(request, saved_views=saved_views),
            request.path,
            sorted(request.GET.lists()),
            asked,
            getattr(zone, "key", None),
            tuple(request.COOKIES.get(name) for name in PAGE_COOKIES),
            # Which roles see personal data masked: a changed setting is a new page at once.
            tuple(settings.PERSONAL_DATA_MASKED_FOR),
            parts,
        ),
    )


def viewer(request: HttpRequest, *, saved_views: bool = False) -> tuple[Any, ...]:
    """Whom a page is built for, as far as a list or call page can tell people apart: what
    they may do and see (superuser, staff, permissions, groups: their role; their role's
    masking), their saved views where the page shows them, and, while a reveal of theirs runs,
    who they are. The rest that is theirs, the name in the header and the tokens, is marked in
    a kept page and filled in for each request (``_marked``, ``_replay``). People alike in all
    of it share kept pages: a team of one role reads each page once between changes.

    With the cache down, or the permissions not read through it, each user is their own."""
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return ("nobody",)
    reads = _reads(user)
    groups = prime_permissions(user, reads)
    if groups is None:
        return ("user", user.pk)
    alike: tuple[Any, ...] = (
        user.is_superuser,
        user.is_staff,
        user.is_active,
        tuple(sorted(user.get_all_permissions())),
        tuple(sorted(groups)),
        roles.sees_personal_data(user),
    )
    if not roles.sees_personal_data(user):
        end = cached_value(
            f"reveals-end:{user.pk}", lambda: reveals_end(user), start=False, reads=reads
        )
        if end is not None and end > timezone.now():
            alike += ("revealing", user.pk)
    if saved_views:
        views = saved_views_of(user, reads)
        alike += (tuple((view.pk, view.name, view.query) for view in views),)
    return alike


def _reads(user: Any) -> dict[str, Any]:
    """What a page view reads from the cache before it can look for its kept page, in one
    round trip, once a request: the generations, the user's permissions, their saved views and
    their reveals' end (the Redis round trip is most of a kept page's cost)."""
    found = getattr(user, "_page_cache_reads", None)
    if found is None:
        found = resilience.safe_get_many(
            [
                *_GENERATION_KEYS,
                _permissions_key(user.pk),
                _value_key(f"saved-views:{user.pk}"),
                _value_key(f"reveals-end:{user.pk}"),
            ]
        )
        user._page_cache_reads = found
    return cast(dict[str, Any], found)


def saved_views_of(user: Any, reads: dict[str, Any] | None = None) -> list[SavedView]:
    """``user``'s saved views, by name (the list's menu): from the cache at the pages'
    generation, read once a request (``reads``: as ``cached_value``)."""
    if not getattr(user, "is_authenticated", False):
        return []
    found = getattr(user, "_page_cache_saved_views", None)
    if found is None:
        found = cached_value(
            f"saved-views:{user.pk}",
            lambda: list(SavedView.objects.filter(user=user).only("id", "name", "query")),
            start=False,
            reads=reads,
        )
        user._page_cache_saved_views = found
    return cast(list[SavedView], found)


def kept_page(
    request: HttpRequest,
    key: str,
    check: Any = None,
    fills: Callable[[], dict[str, str]] | None = None,
) -> HttpResponse | PageBuild:
    """The page kept under ``key`` as this request's response, else the ``PageBuild`` to build
    it with (``check``: a value the page was built with, which must still be the same;
    ``fills``: this request's text for the marks its builds put in ``PageBuild.personal``)."""
    if _has_messages(request):
        return PageBuild(key, check, None)
    read = getattr(request.user, "_page_cache_reads", None)  # by ``viewer``, for ``page_key``
    if read is None:
        found = resilience.safe_get_many([key, *_GENERATION_KEYS])
    else:
        found = {**read, **resilience.safe_get_many([key])}
    generations = tuple(found.get(name) for name in _GENERATION_KEYS)
    kept = found.get(key)
    if (
        isinstance(kept, KeptPage)
        and kept.generations == generations
        and kept.check == check
        and time.time() < kept.until
    ):
        return _replay(request, kept, fills() if fills else {})
    if None in generations[:3]:  # a counter lost or never started: start it, keep nothing
        for name in _GENERATION_KEYS[:3]:
            resilience.safe_add(name, time.time_ns(), GENERATION_SECONDS)
        return PageBuild(key, check, None)
    return PageBuild(key, check, generations)


@contextmanager
def noting(build: PageBuild) -> Iterator[PageBuild]:
    """Around building the page: notes how long each answer it reads from Truedy stays fresh."""
    with cache.noting_freshness() as noted:
        yield build
    build.noted = list(noted)


def keep_page(request: HttpRequest, build: PageBuild, response: HttpResponse) -> HttpResponse:
    """``response``, kept under the build's key once rendered, if nothing forbids it."""
    generations = build.generations
    if generations is None or build.refused or response.status_code != 200:
        return response
    if resilience.stale_reads() or response.cookies:
        return response
    until = min([time.time() + _entry_seconds(), *build.bounds, *build.noted])
    if until <= time.time():
        return response

    def keep(rendered: HttpResponse) -> None:
        if _has_messages(request) or resilience.stale_reads():
            return
        body = _marked(request, rendered.content, build.personal)
        if body is None:
            return
        headers = tuple((name, value) for name, value in rendered.items())
        parts = tuple(_MARKS.split(body))
        marks = tuple(_MARKS.findall(body))
        deflated = tuple(_deflated(part) for part in parts)
        page = KeptPage(generations, until, build.check, 200, headers, parts, marks, deflated)
        resilience.safe_set(build.key, page, max(1, int(until - time.time()) + 1))

    if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
        response.add_post_render_callback(keep)
    else:
        keep(response)
    return response


def reveals_end(user: Any) -> datetime | None:
    """When the earliest of ``user``'s running reveals ends (a page masked by role shows what
    it reveals until then)."""
    if not getattr(user, "is_authenticated", False):
        return None
    running = PersonalDataReveal.objects.filter(user=user, expires_at__gt=timezone.now())
    end: datetime | None = running.aggregate(end=Min("expires_at"))["end"]
    return end


def bump_pages(**_: Any) -> None:
    """Every kept page stops counting (a signal receiver, or called after a bulk write): now,
    and again when the transaction commits, so a page built in between from what was there
    before (its writes not yet visible) is not kept at the new generation."""
    _bump_pages()
    transaction.on_commit(_bump_pages)


def _bump_pages() -> None:
    if not resilience.safe_add(PAGES_GENERATION_KEY, time.time_ns(), GENERATION_SECONDS):
        resilience.safe_incr(PAGES_GENERATION_KEY, GENERATION_SECONDS)


def cached_value(
    name: str, build: Callable[[], Any], *, start: bool = True, reads: dict[str, Any] | None = None
) -> Any:
    """A value every page shows (the open alerts' count), kept at the pages' generation
    (``start``: starting it if there is none; else the value is built and not kept;
    ``reads``: the cache's answers already read for this request, ``_reads``)."""
    key = _value_key(name)
    found = reads if reads is not None else resilience.safe_get_many([PAGES_GENERATION_KEY, key])
    generation = found.get(PAGES_GENERATION_KEY)
    entry = found.get(key)
    if generation is not None and isinstance(entry, tuple) and entry[0] == generation:
        return entry[1]
    value = build()
    if generation is None:
        if start:
            resilience.safe_add(PAGES_GENERATION_KEY, time.time_ns(), GENERATION_SECONDS)
    else:
        resilience.safe_set(key, (generation, value), _entry_seconds())
    return value


def _value_key(name: str) -> str:
    return f"{PAGE_CACHE_PREFIX}:value:{name}"


_GENERATION_KEYS = (
    GENERATION_KEY,
    PAGES_GENERATION_KEY,
    PERMISSIONS_GENERATION_KEY,
    LISTS_CHANGED_KEY,  # Truedy said a call changed (a webhook): lists and calls re-read
)


def _replay(request: HttpRequest, kept: KeptPage, fills: dict[str, str]) -> HttpResponse:
    values = {_CSRF: get_token(request).encode()}
    if _NONCE in kept.marks:
        values[_NONCE] = str(request.csp_nonce).encode()  # type: ignore[attr-defined]
    if _WHO in kept.marks:
        values[_WHO] = _WHO_SPAN.format(escape(request.user.get_username())).encode()
    values |= {mark.encode(): text.encode() for mark, text in fills.items()}
    filled = [values[mark] for mark in kept.marks]
    gzipped = bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    if gzipped:
        body = _gzipped(kept, filled)
    else:
        pieces = [kept.parts[0]]
        for value, part in zip(filled, kept.parts[1:], strict=True):
            pieces += [value, part]
        body = b"".join(pieces)
    response = HttpResponse(body, status=kept.status)
    for header, text in kept.headers:
        response[header] = text
    if gzipped:
        response["Content-Encoding"] = "gzip"  # CompressPagesMiddleware leaves it as it is
        patch_vary_headers(response, ("Accept-Encoding",))
    response["Content-Length"] = str(len(body))
    return response


# --- gzip without compressing the whole page again ----------------------------------------------
# A deflate stream is a run of blocks; a compressor flushed with Z_FULL_FLUSH ends on a block
# and byte boundary and refers to nothing before its own input, so pieces compressed apart
# may follow one another in one stream, closed by an empty final block. Gzipping an 80 KB page
# on every request was most of a kept page's cost; and the CSRF token, compressed alone, shares
# no compression context with anything the page reflects (BREACH). Django's 0-99 random bytes
# (Heal the Breach, as GZipMiddleware adds) are kept.

ACCEPTS_GZIP = re.compile(r"\bgzip\b")
_CSRF, _NONCE = CSRF_MARK.encode(), NONCE_MARK.encode()
_WHO, _POLL = WHO_MARK.encode(), POLL_MARK.encode()
_MARKS = re.compile(b"|".join(re.escape(mark) for mark in (_CSRF, _NONCE, _WHO, _POLL)))
_GZIP_LEVEL = 6  # Django's
_FINAL_BLOCK = b"\x03\x00"  # an empty, final block of fixed codes


def _deflated(data: bytes) -> bytes:
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def _gzipped(kept: KeptPage, filled: list[bytes]) -> bytes:
    name = b"a" * secrets.randbelow(100) + b"\x00"
    # Magic, deflate, FNAME, no mtime, no extra flags, unknown OS; then the name.
    out = [b"\x1f\x8b\x08\x08\x00\x00\x00\x00\x00\xff", name, kept.deflated[0]]
    crc = zlib.crc32(kept.parts[0])
    size = len(kept.parts[0])
    for value, part, deflated in zip(filled, kept.parts[1:], kept.deflated[1:], strict=True):
        out += [_deflated(value), deflated]
        crc = zlib.crc32(part, zlib.crc32(value, crc))
        size += len(value) + len(part)
    out += [_FINAL_BLOCK, struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)]
    return b"".join(out)


def _marked(request: HttpRequest, body: bytes, personal: dict[str, str]) -> bytes | None:
    """``body`` with this request's CSRF tokens and nonce, the viewer's name in the header and
    their ``personal`` text replaced by the marks; None if it holds a mark already (someone
    typed it: never keep such a page)."""
    if _MARKS.search(body):
        return None
    who = _WHO_SPAN.format(escape(request.user.get_username())).encode()
    body = body.replace(who, _WHO)
    for text, replaced_by in personal.items():
        body = body.replace(text.encode(), replaced_by.encode())
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:
        body = body.replace(str(nonce).encode(), NONCE_MARK.encode())
    secret = request.META.get("CSRF_COOKIE")
    if secret:

        def mark(found: re.Match[bytes]) -> bytes:
            token = found.group().decode()
            return CSRF_MARK.encode() if _unmask_cipher_token(token) == secret else found.group()

        body = _TOKEN.sub(mark, body)
    return body


def _has_messages(request: HttpRequest) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0
