"""Deny by default: every URL pattern the resolver knows is walked, not a hand-kept list.

Anonymous visitors are sent to sign in, signed-in users who are not staff are refused, staff get
through; only the names in ANONYMOUS_ALLOWED open without signing in. A new view added without
``login_not_required`` is protected by the middleware and passes; one added *with* it (or mounted
outside the middleware) fails ``test_only_the_allowlisted_urls_open_without_signing_in`` until
it is added to ANONYMOUS_ALLOWED on purpose.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from calls.views.roles import GUARD_MARK
from calls.views.scorecards import ADMIN_MARK
from tests.views.test_recording import recorded_call

pytestmark = pytest.mark.django_db

# URL names (namespaced as "admin:login") that anyone may open without signing in. Each is
# listed on purpose; add a health check or a webhook receiver here, with its own check, when
# one exists. Static files and a favicon are served by the web server or `runserver`, not by a
# URL pattern, so they need no entry.
ANONYMOUS_ALLOWED = frozenset(
    {
        "login",  # the sign-in page itself
        "logout",  # POST only; anyone signed in, staff or not, must be able to sign out
        "admin:login",  # the admin's own sign-in page (staff only beyond it)
        "healthz",  # the load balancer's probe: database and cache state, no data (test_health)
        "truedy_webhook",  # Truedy's deliveries, each checked by its signature (test_webhooks)
    }
)

# A sample valid value for each converter; `call_id` is replaced by a real call below.
CONVERTER_SAMPLES = {
    "str": "sample",
    "int": "1",
    "slug": "sample",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "path": "1",
}
NAME_SAMPLES = {"uidb64": "MQ", "token": "set-password"}


@dataclass(frozen=True)
class Walked:
    path: str
    name: str  # "namespace:name", or the route itself for an unnamed pattern
    callback: Any
    in_admin: bool


def _route_sample(route: str, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        converter, name = match["converter"] or "str", match["name"]
        return values.get(name) or NAME_SAMPLES.get(name) or CONVERTER_SAMPLES[converter]

    return re.sub(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>", fill, route)


def _regex_sample(regex: str) -> str:
    """A path for a regex pattern: each group takes its first literal alternative, `.*` a word."""
    sample = regex.removeprefix("^").removesuffix("$")
    sample = re.sub(r"\(\?P<\w+>([\w-]+)(?:\|[\w|-]*)?\)", r"\1", sample)
    return re.sub(r"\(\?P<\w+>\.\*\)", "walk", sample)


def _sample(pattern: Any, values: dict[str, str]) -> str:
    if isinstance(pattern, RoutePattern):
        return _route_sample(str(pattern), values)
    if isinstance(pattern, RegexPattern):
        return _regex_sample(str(pattern))
    raise AssertionError(f"no sample for a {type(pattern).__name__}: teach the walk about it")


def walk(values: dict[str, str]) -> list[Walked]:
    """Every URL pattern of the project, recursively, with its converters filled in."""
    found: list[Walked] = []

    def visit(patterns: list, prefix: str, namespace: str, in_admin: bool) -> None:
        for entry in patterns:
            here = prefix + _sample(entry.pattern, values)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                visit(entry.url_patterns, here, inner, in_admin or entry.namespace == "admin")
            else:
                assert isinstance(entry, URLPattern)
                name = f"{namespace}{entry.name}" if entry.name else str(entry.pattern)
                found.append(Walked("/" + here, name, entry.callback, in_admin))

    visit(get_resolver().url_patterns, "", "", False)
    return found


@pytest.fixture
def urls(frozen_simulator) -> list[Walked]:
    # A real campaign (the frozen simulator's active one): its page opens like any other.
    campaign_id = "cmp_brightline_sales_202611"
    walked = walk({"call_id": recorded_call(frozen_simulator).id, "campaign_id": campaign_id})
    for url in walked:  # the sample really reaches the pattern it was made for
        assert resolve(url.path).func == url.callback, f"{url.path} resolves elsewhere"
    return walked


def _login_paths() -> set[str]:
    return {resolve_url(settings.LOGIN_URL), resolve_url("admin:login")}


def test_the_walk_finds_the_dashboard_and_the_admin(urls):
    names = {url.name for url in urls}
    dashboard = {"call_list", "call_detail", "call_recording", "call_transcript_text"}
    dashboard |= {"calls_export_csv", "call_transcript_json"}
    dashboard |= {"call_totals", "saved_view_create", "saved_view_delete"}
    dashboard |= {"call_review", "call_outcome", "review_start", "review_done"}
    dashboard |= {"review_sample", "review_skip"}
    dashboard |= {"agreement", "call_notes", "note_detail", "note_resolve", "for_you"}
    dashboard |= {"campaign_list", "campaign_detail"}
    dashboard |= {"recordings_zip"}  # staff in no group (Viewers) may, by default
    dashboard |= {"scorecard_list", "scorecard_detail", "scorecard_new", "scorecard_edit"}
    dashboard |= {"scorecard_retire", "call_scorecard"}
    assert {f"calls:{name}" for name in dashboard} <= names
    assert "login" in names and "admin:index" in names
    assert names >= ANONYMOUS_ALLOWED, "an allowlisted name no longer exists: drop it"


def test_only_the_allowlisted_urls_open_without_signing_in(client, urls):
    opened = set()
    for url in urls:
        for method in (client.get, client.post):
            response = method(url.path)
            if response.status_code == 302 and urlsplit(response["Location"]).path in (
                _login_paths()
            ):
                continue
            opened.add(url.name)
            assert url.name in ANONYMOUS_ALLOWED, (
                f"{method.__name__.upper()} {url.path} ({url.name}) answered "
                f"{response.status_code} to an anonymous visitor: protect it, or add it to "
                "ANONYMOUS_ALLOWED on purpose"
            )
            assert response.status_code < 500, f"{url.path} failed for an anonymous visitor"
    assert opened == ANONYMOUS_ALLOWED


def test_anonymous_visitors_are_sent_to_the_sign_in_page(client, urls):
    login = resolve_url(settings.LOGIN_URL)
    for url in urls:
        if url.name in ANONYMOUS_ALLOWED:
            continue
        response = client.get(url.path)
        assert response.status_code == 302, url.path
        location = urlsplit(response["Location"])
        if url.in_admin:
            assert location.path in _login_paths(), url.path
        else:
            assert location.path == login, url.path
            assert location.query.startswith("next="), url.path


def test_the_login_page_opens(client):
    assert client.get(resolve_url(settings.LOGIN_URL)).status_code == 200


def test_signed_in_users_who_are_not_staff_are_refused_everywhere(client, django_user_model, urls):
    user = django_user_model.objects.create_user(username="visitor", password="x" * 20)
    client.force_login(user)
    for url in urls:
        if url.name in ANONYMOUS_ALLOWED:
            continue
        for method in (client.get, client.post):
            response = method(url.path)
            assert response.status_code == 403, (
                f"{method.__name__.upper()} {url.path} ({url.name}) answered "
                f"{response.status_code} to a signed-in user who is not staff"
            )


def test_staff_get_through(staff_client, urls):
    """Staff are neither sent to sign in nor refused (the admin checks its own permissions, and
    so do the pages that define scorecards: see the roles below)."""
    for url in urls:
        if url.in_admin or url.name in ANONYMOUS_ALLOWED or getattr(url.callback, ADMIN_MARK, 0):
            continue
        response = staff_client.get(url.path)
        sent_to_sign_in = (
            response.status_code == 302 and urlsplit(response["Location"]).path in _login_paths()
        )
        assert response.status_code != 403 and not sent_to_sign_in, (
            f"{url.path} ({url.name}) answered {response.status_code} to staff"
        )
        assert response.status_code < 500, f"{url.path} failed for staff"


# --- Roles: Viewer reads, Reviewer also writes review work (calls/services/roles.py) ------------

# URL names whose POST writes review work: a Reviewer's may, a Viewer's is refused (403).
WRITES_REVIEW_WORK = frozenset(
    {
        "calls:call_notes",
        "calls:note_resolve",
        "calls:call_review",
        "calls:call_outcome",
        "calls:review_sample",
        "calls:review_skip",
        "calls:call_scorecard",
        "calls:alert_acknowledge",
        "calls:alert_resolve",
    }
)
# URL names only an Admin may use, whatever the method (defining scorecards).
ADMIN_ONLY = frozenset(
    {
        "calls:scorecard_new",
        "calls:scorecard_edit",
        "calls:scorecard_retire",
        "calls:alert_rule_new",
        "calls:alert_rule_edit",
        "calls:alert_delivery_retry",
    }
)
# Of those, the ones that only take POST.
POST_ONLY = frozenset({"calls:scorecard_retire", "calls:alert_delivery_retry"})


def _review_work_rows() -> tuple[int, ...]:
    """Every kind of row review work writes, counted."""
    from calls.models import (
        AuditEvent,
        CheckOverride,
        OutcomeCorrection,
        Review,
        ReviewSample,
        Scorecard,
        ScorecardScore,
        ScorecardVersion,
        TurnNote,
    )

    review_actions = ("review_call", "correct_outcome", "add_note", "resolve_note")
    review_actions += ("score_call", "change_scorecard")
    from calls.models import AlertIssue, AlertRule

    return (
        AlertRule.objects.count(),
        AlertIssue.objects.exclude(state="open").count(),
        Review.objects.count(),
        OutcomeCorrection.objects.count(),
        TurnNote.objects.count(),
        TurnNote.objects.filter(resolved_at__isnull=False).count(),
        ReviewSample.objects.count(),
        ScorecardScore.objects.count(),
        CheckOverride.objects.count(),
        ScorecardVersion.objects.count(),
        Scorecard.objects.filter(retired_at__isnull=False).count(),
        AuditEvent.objects.filter(action__in=review_actions).count(),
    )


@pytest.fixture
def open_note(staff_user, frozen_simulator):
    """An open note with the id the walk's samples use (1), on the sample call."""
    from calls.models import TurnNote

    call_id = recorded_call(frozen_simulator).id
    return TurnNote.objects.create(pk=1, call_id=call_id, turn=1, text="x", author=staff_user)


@pytest.fixture
def scorecard(staff_user):
    """A scorecard with the id the walk's samples use (1), applying to every call."""
    from calls.models import Scorecard, ScorecardQuestion, ScorecardVersion

    card = Scorecard.objects.create(pk=1, created_by=staff_user)
    version = ScorecardVersion.objects.create(scorecard=card, number=1, name="Walk")
    ScorecardQuestion.objects.create(version=version, position=1, text="Q", kind="yes_no")
    return card


@pytest.fixture
def alert_rule():
    """An alert rule with the id the walk's samples use (1)."""
    from calls.models import AlertRule

    return AlertRule.objects.create(pk=1, name="Walk", metric="calls")


def test_the_review_writes_are_walked(urls):
    assert {url.name for url in urls} >= WRITES_REVIEW_WORK


def test_every_view_guarded_for_reviewers_is_walked_as_a_review_write(urls):
    """calls.views.roles.review_permission_required marks its views: each is listed above."""
    guarded = {url.name for url in urls if getattr(url.callback, GUARD_MARK, False)}
    assert guarded <= WRITES_REVIEW_WORK


def test_viewers_read_everything_and_write_no_review_work(staff_client, urls, open_note, scorecard):
    """A staff user in no group is a Viewer: every page opens, no POST writes review work, and
    a POST to a review URL is refused."""
    for url in urls:
        if url.in_admin or url.name in ANONYMOUS_ALLOWED:
            continue
        before = _review_work_rows()
        response = staff_client.post(url.path, {"turn": "1", "text": "x", "verdict": "pass"})
        assert _review_work_rows() == before, f"POST {url.path} ({url.name}) wrote as a Viewer"
        if url.name in WRITES_REVIEW_WORK | ADMIN_ONLY:
            assert response.status_code == 403, f"POST {url.path} answered {response.status_code}"
        reading = staff_client.get(url.path)
        assert reading.status_code < 500, url.path
        if url.name in ADMIN_ONLY:
            assert reading.status_code == 403, f"GET {url.path} answered {reading.status_code}"


def test_reviewers_may_write_review_work(client, staff_user, urls, open_note, scorecard):
    from tests.notes.roles import make_reviewer

    client.force_login(make_reviewer(staff_user))
    for url in urls:
        if url.name not in WRITES_REVIEW_WORK:
            continue
        response = client.post(url.path, {"turn": "1", "text": "A note"})
        assert response.status_code not in (403, 405), f"POST {url.path} refused a Reviewer"
        assert response.status_code < 500, url.path


def test_every_view_only_an_admin_may_use_is_walked_as_one(urls):
    """calls.views.scorecards.manage_scorecards_required marks its views: each is listed."""
    assert {url.name for url in urls if getattr(url.callback, ADMIN_MARK, False)} == ADMIN_ONLY


def test_reviewers_may_not_define_scorecards(client, staff_user, urls, scorecard):
    from tests.notes.roles import make_reviewer

    client.force_login(make_reviewer(staff_user))
    for url in urls:
        if url.name not in ADMIN_ONLY:
            continue
        before = _review_work_rows()
        for method in (client.get, client.post):
            response = method(url.path, {"name": "x", "action": "retire"})
            assert response.status_code == 403, f"{url.path} let a Reviewer through"
        assert _review_work_rows() == before, f"{url.path} wrote for a Reviewer"


def test_admins_may_define_scorecards(client, staff_user, urls, scorecard, alert_rule):
    from tests.alerts.conftest import make_alert_admin

    client.force_login(make_alert_admin(staff_user))
    for url in urls:
        if url.name not in ADMIN_ONLY:
            continue
        if url.name not in POST_ONLY:
            assert client.get(url.path).status_code == 200, url.path
        response = client.post(url.path, {"name": "x", "action": "retire"})
        assert response.status_code not in (403, 405), f"POST {url.path} refused an Admin"
        assert response.status_code < 500, url.path
