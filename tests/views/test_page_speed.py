"""Whole cached pages (calls.services.page_cache ``kept_page``): a list or call page asked for
again is served from the cache with a few queries, never to another user or role, always with
this session's CSRF token and this response's CSP nonce, and rebuilt as soon as anything it
shows has changed: review work, notes, saved views, open alerts, reveals, Truedy's answers
going stale or changing, messages."""

import gzip
import re
import zlib
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import AuditAction, AuditEvent, Review, TurnNote
from calls.services import alerts, page_cache
from calls.truedy.filters import CallFilters
from calls.upstream import cache
from tests.alerts.conftest import NOW, archived, make_rule
from tests.privacy.test_masking import CARD, PII_CALL_ID, archive_pii, leaked
from tests.reviews.conftest import person, signed_in

pytestmark = pytest.mark.django_db

LIST = "/calls/?tz=UTC"
ENDED = "/calls/?tz=UTC&status=ended"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')
NONCE = re.compile(r'nonce="([^"]+)"')


def warm(client: Client, url: str):
    """Three views: the first starts the generations, the second keeps the page."""
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200
    return response


def served_whole(client: Client, url: str, queries: int) -> str:
    with CaptureQueriesContext(connection) as asked:
        response = client.get(url)
    assert response.status_code == 200
    assert len(asked) <= queries, [q["sql"][:80] for q in asked.captured_queries]
    return response.content.decode()


def rebuilt(client: Client, url: str) -> str:
    with CaptureQueriesContext(connection) as asked:
        response = client.get(url)
    assert response.status_code == 200
    assert len(asked) > 3, "served whole, but something it shows has changed"
    return response.content.decode()


def without_tokens(html: str) -> str:
    return NONCE.sub("", TOKEN.sub("", re.sub(r'"X-CSRFToken": "[^"]+"', "", html)))


@pytest.fixture
def ended_call_url(staff_client, frozen_simulator) -> str:
    html = staff_client.get(ENDED).content.decode()
    found = re.search(r'<a class="row-link" href="([^"]+)"', html)
    assert found
    return found.group(1).replace("&amp;", "&")


# --- served whole --------------------------------------------------------------------------------


def test_a_repeated_list_page_is_served_whole_with_three_queries(staff_client, frozen_simulator):
    first = warm(staff_client, LIST).content.decode()
    # The session, its user, and the archive's state (whether it may answer the list now).
    again = served_whole(staff_client, LIST, 3)
    assert without_tokens(again) == without_tokens(first)


def test_a_repeated_call_page_is_served_whole_and_still_audited(
    staff_client, staff_user, ended_call_url
):
    first = warm(staff_client, ended_call_url).content.decode()
    assert without_tokens(served_whole(staff_client, ended_call_url, 2)) == without_tokens(first)
    call_id = ended_call_url.split("/")[2]
    views = AuditEvent.objects.filter(action=AuditAction.VIEW_CALL, call_id=call_id)
    assert views.count() == 1  # one a user, call and dedupe window, served whole or not
    cache.resilience.safe_delete(f"truedy:v1:audit-seen:{staff_user.pk}:view_call:{call_id}")
    served_whole(staff_client, ended_call_url, 5)  # + the audit row, in its savepoint
    assert views.count() == 2


def test_an_htmx_results_swap_is_kept_apart_from_the_page(staff_client, frozen_simulator):
    page = warm(staff_client, LIST).content.decode()
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}
    for _ in range(3):
        swap = staff_client.get(LIST, **headers)
    assert swap["HX-Push-Url"].startswith("/calls/?")  # kept with the page's headers
    assert "<html" in page and "<html" not in swap.content.decode()
    assert "<html" in staff_client.get(LIST).content.decode()


# --- never another's -----------------------------------------------------------------------------


def test_each_session_gets_its_own_csrf_token_and_nonce(staff_user, frozen_simulator):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(staff_user)
    second.force_login(staff_user)
    warm(first, LIST)
    response = second.get(LIST)  # the page the first session's views kept
    html = response.content.decode()
    assert page_cache.CSRF_MARK not in html and page_cache.NONCE_MARK not in html
    tokens = set(TOKEN.findall(html))
    secret = second.cookies["csrftoken"].value  # this session's, never the first one's
    assert secret != first.cookies["csrftoken"].value
    assert tokens and all(_unmask_cipher_token(token) == secret for token in tokens)
    nonces = set(NONCE.findall(html))
    assert len(nonces) == 1 and f"'nonce-{nonces.pop()}'" in response["Content-Security-Policy"]
    saved = second.post(
        "/calls/saved-views/",
        {"name": "Mine", "query": "tz=UTC", "csrfmiddlewaretoken": tokens.pop()},
    )
    assert saved.status_code in (302, 303)  # the token the kept page carried works


def test_masked_and_unmasked_roles_never_share_a_kept_call_page(
    frozen_simulator, django_user_model, settings
):
    archive_pii()
    url = f"/calls/{PII_CALL_ID}/"
    reviewer = signed_in(person(django_user_model, "rita", "Reviewer"))
    viewer = signed_in(person(django_user_model, "vic", "Viewer"))
    assert CARD in warm(reviewer, url).content.decode()
    for _ in range(3):
        masked = viewer.get(url).content.decode()
        assert leaked(masked) == []
    assert CARD in reviewer.get(url).content.decode()


def test_masked_and_unmasked_roles_never_share_a_kept_list(frozen_simulator, django_user_model):
    reviewer = signed_in(person(django_user_model, "rita", "Reviewer"))
    viewer = signed_in(person(django_user_model, "vic", "Viewer"))
    unmasked = without_tokens(warm(reviewer, LIST).content.decode())
    masked = without_tokens(warm(viewer, LIST).content.decode())
    assert masked != unmasked
    assert without_tokens(viewer.get(LIST).content.decode()) == masked
    assert without_tokens(reviewer.get(LIST).content.decode()) == unmasked


# --- rebuilt when what it shows changes ----------------------------------------------------------


def test_a_verdict_shows_at_once_on_a_kept_call_page(
    staff_client, ended_call_url, django_user_model
):
    warm(staff_client, ended_call_url)
    call_id = ended_call_url.split("/")[2]
    Review.objects.create(
        call_id=call_id, verdict="fail", reviewer=person(django_user_model, "rita", "Reviewer")
    )
    assert "rita" in rebuilt(staff_client, ended_call_url)


def test_a_note_shows_at_once_on_a_kept_call_page(staff_client, staff_user, ended_call_url):
    warm(staff_client, ended_call_url)
    call_id = ended_call_url.split("/")[2]
    TurnNote.objects.create(call_id=call_id, turn=None, text="Listen from 0:42", author=staff_user)
    assert "Listen from 0:42" in rebuilt(staff_client, ended_call_url)


def test_a_saved_view_and_its_message_show_at_once_on_a_kept_list(staff_client, frozen_simulator):
    warm(staff_client, LIST)
    saved = staff_client.post("/calls/saved-views/", {"name": "Mornings", "query": "tz=UTC"})
    assert saved.status_code in (302, 303)
    with_message = rebuilt(staff_client, LIST)
    message = "Saved view “Mornings”"
    assert "Mornings" in with_message and message in with_message
    staff_client.get(LIST)
    again = staff_client.get(LIST).content.decode()
    assert "Mornings" in again and message not in again  # the message was shown once


def test_the_open_alerts_count_follows_an_acknowledgement(
    staff_client, staff_user, frozen_simulator
):
    archived("call_1", minutes_ago=1)
    issue = alerts.check_rule(make_rule(name="Busy", threshold=0), filters=CallFilters(), now=NOW)
    assert issue is not None
    badge = '<span class="count-badge">1<'
    assert badge in warm(staff_client, LIST).content.decode()
    assert alerts.acknowledge(issue, by=staff_user)  # an update(): no signal
    assert badge not in rebuilt(staff_client, LIST)


def test_a_reveal_shows_at_once_and_ends_on_time_on_a_kept_page(
    frozen_simulator, django_user_model, settings
):
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Admin"]
    settings.PAGE_CACHE_SECONDS = 3600  # only the reveal's end bounds the kept page
    archive_pii()
    admin = signed_in(person(django_user_model, "ada", "Admin"))
    url = f"/calls/{PII_CALL_ID}/"
    assert leaked(warm(admin, url).content.decode()) == []
    admin.post(f"{url}reveal", {"reason": "Customer asked for a refund (ticket 8812)"})
    assert CARD in rebuilt(admin, url)
    assert CARD in admin.get(url).content.decode()  # kept, revealed, until the reveal ends
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1), tick=False):
        assert leaked(admin.get(url).content.decode()) == []


def test_a_kept_list_lasts_no_longer_than_truedys_answer_stays_fresh(
    staff_client, frozen_simulator, settings
):
    warm(staff_client, LIST)
    served_whole(staff_client, LIST, 3)
    later = timezone.now() + timedelta(seconds=settings.CACHE_TTL_CALL_LIST + 1)
    with time_machine.travel(later, tick=False):
        rebuilt(staff_client, LIST)


def test_a_call_truedy_says_changed_rebuilds_the_kept_pages(staff_client, ended_call_url):
    warm(staff_client, ended_call_url)
    cache.invalidate_call(ended_call_url.split("/")[2])  # what a webhook does
    rebuilt(staff_client, ended_call_url)


def test_a_page_with_a_stale_answer_is_never_kept(staff_client, frozen_simulator, settings):
    warm(staff_client, LIST)
    later = timezone.now() + timedelta(seconds=settings.CACHE_TTL_CALL_LIST + 1)
    frozen_simulator.switches.fail_next(50, status=503)
    with time_machine.travel(later, tick=False):
        for _ in range(2):
            rebuilt(staff_client, LIST)  # the stale list with its notice, every time


def test_the_totals_strip_cookie_has_its_own_kept_page(staff_client, frozen_simulator):
    closed = warm(staff_client, LIST).content.decode()
    staff_client.cookies["totals_open"] = "1"
    opened = staff_client.get(LIST).content.decode()
    assert 'class="totals loading is-open"' in opened
    assert 'class="totals loading is-open"' not in closed


def test_a_role_newly_masked_by_the_settings_never_gets_its_unmasked_kept_page(
    frozen_simulator, django_user_model, settings
):
    archive_pii()
    url = f"/calls/{PII_CALL_ID}/"
    reviewer = signed_in(person(django_user_model, "rita", "Reviewer"))
    assert CARD in warm(reviewer, url).content.decode()
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Reviewer"]
    assert leaked(reviewer.get(url).content.decode()) == []


def test_a_kept_page_gzipped_in_pieces_is_one_valid_gzip(staff_client, frozen_simulator):
    plain = warm(staff_client, LIST).content.decode()
    response = staff_client.get(LIST, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Length"] == str(len(response.content))
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a strict reader: one member, all used
    html = decoder.decompress(response.content).decode()
    assert decoder.eof and not decoder.unused_data
    assert html == gzip.decompress(response.content).decode()
    assert without_tokens(html) == without_tokens(plain)
    tokens = set(TOKEN.findall(html))
    secret = staff_client.cookies["csrftoken"].value
    assert tokens and all(_unmask_cipher_token(token) == secret for token in tokens)
    assert page_cache.CSRF_MARK not in html and page_cache.NONCE_MARK not in html


# --- shared by people alike ----------------------------------------------------------------------

SIGNED_IN_AS = '<span class="who" id="signed-in-as">{}</span>'
WHO = re.compile(r'<span class="who" id="signed-in-as">([^<]*)</span>')


def test_people_of_one_role_share_a_kept_list_each_with_their_own_name_and_token(
    frozen_simulator, django_user_model
):
    rita = signed_in(person(django_user_model, "rita", "Reviewer"))
    rex = signed_in(person(django_user_model, "rex", "Reviewer"))
    first = warm(rita, LIST).content.decode()
    rex.get(ENDED)  # his session, CSRF cookie, permissions and saved views read once
    shared = served_whole(rex, LIST, 3)  # rita's kept page: no list read, no rows built
    assert WHO.findall(first) == ["rita"] and WHO.findall(shared) == ["rex"]
    assert without_tokens(shared).replace(">rex<", ">rita<") == without_tokens(first)
    secret = rex.cookies["csrftoken"].value
    tokens = set(TOKEN.findall(shared))
    assert tokens and all(_unmask_cipher_token(token) == secret for token in tokens)
    assert page_cache.WHO_MARK not in shared and page_cache.CSRF_MARK not in shared


def test_people_of_one_role_share_a_kept_call_page_and_both_are_audited(
    frozen_simulator, django_user_model, ended_call_url
):
    rita = signed_in(person(django_user_model, "rita", "Reviewer"))
    rex = signed_in(person(django_user_model, "rex", "Reviewer"))
    warm(rita, ended_call_url)
    rex.get(ENDED)
    page = served_whole(rex, ended_call_url, 6)  # his view is audited: a row of his own
    assert WHO.findall(page) == ["rex"]
    call_id = ended_call_url.split("/")[2]
    viewers = AuditEvent.objects.filter(action=AuditAction.VIEW_CALL, call_id=call_id)
    assert {event.user.username for event in viewers if event.user} >= {"rita", "rex"}


def test_a_name_to_be_escaped_is_escaped_in_a_shared_page(frozen_simulator, django_user_model):
    rita = signed_in(person(django_user_model, "rita", "Reviewer"))
    odd = signed_in(person(django_user_model, "o'brien+1@x", "Reviewer"))
    warm(rita, LIST)
    odd.get(ENDED)
    assert WHO.findall(odd.get(LIST).content.decode()) == ["o&#x27;brien+1@x"]


def test_people_of_other_roles_never_share_a_kept_page(
    frozen_simulator, django_user_model, ended_call_url
):
    rita = signed_in(person(django_user_model, "rita", "Reviewer"))
    ada = signed_in(person(django_user_model, "ada", "Admin"))
    vic = signed_in(person(django_user_model, "vic", "Viewer"))
    assert "Your role" not in warm(rita, ended_call_url).content.decode()
    ada.get(ENDED)
    assert WHO.findall(rebuilt(ada, ended_call_url)) == ["ada"]  # never rita's kept page
    vic.get(ENDED)
    assert "Your role (Viewer) can read reviews" in rebuilt(vic, ended_call_url)


def test_a_users_saved_views_never_show_on_a_teammates_list(frozen_simulator, django_user_model):
    rita = signed_in(person(django_user_model, "rita", "Reviewer"))
    rex = signed_in(person(django_user_model, "rex", "Reviewer"))
    rita.post("/calls/saved-views/", {"name": "Mornings of rita", "query": "tz=UTC"})
    assert "Mornings of rita" in warm(rita, LIST).content.decode()
    for _ in range(3):
        assert "Mornings of rita" not in rex.get(LIST).content.decode()


def test_a_reveal_stays_with_the_one_who_revealed(frozen_simulator, django_user_model, settings):
    settings.PERSONAL_DATA_MASKED_FOR = ["Viewer", "Admin"]
    archive_pii()
    url = f"/calls/{PII_CALL_ID}/"
    ada = signed_in(person(django_user_model, "ada", "Admin"))
    alan = signed_in(person(django_user_model, "alan", "Admin"))
    assert leaked(warm(ada, url).content.decode()) == []
    assert leaked(warm(alan, url).content.decode()) == []
    ada.post(f"{url}reveal", {"reason": "Customer asked for a refund (ticket 8812)"})
    for _ in range(3):
        assert CARD in ada.get(url).content.decode()
        assert leaked(alan.get(url).content.decode()) == []
        assert leaked(alan.get(LIST).content.decode()) == []


def test_a_kept_page_gets_this_viewers_own_poll_token(rf, django_user_model):
    """The marks a view puts in ``PageBuild.personal`` are filled per request (``fills``)."""
    from django.http import HttpResponse

    rita, rex = (person(django_user_model, name, "Reviewer") for name in ("rita", "rex"))

    def asked(user):
        request = rf.get("/calls/x/")
        request.user = user
        request.META["CSRF_COOKIE"] = "s" * 32
        return request

    key = page_cache.entry_key("page:test", ("one page",))
    for _ in range(2):  # the first starts the generations
        build = page_cache.kept_page(asked(rita), key)
    assert isinstance(build, page_cache.PageBuild)
    build.personal["token-of-rita"] = page_cache.POLL_MARK
    body = f'{SIGNED_IN_AS.format("rita")}<span class="who">rita</span><i title="token-of-rita">'
    page_cache.keep_page(asked(rita), build, HttpResponse(body))
    served = page_cache.kept_page(asked(rex), key, fills=lambda: {page_cache.POLL_MARK: "rex's"})
    assert not isinstance(served, page_cache.PageBuild)
    # Only the header's name is the viewer's: a speaker of the same name in a transcript stays.
    expected = f'{SIGNED_IN_AS.format("rex")}<span class="who">rita</span><i title="rex\'s">'
    assert served.content.decode() == expected
