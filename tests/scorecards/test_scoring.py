"""A reviewer fills a scorecard on the call page (calls/views/scorecards.py): pre-answered
automatic questions with their evidence, the weighted score, overrides recorded, every bad
answer named (400), a Viewer refused (403, nothing written), and versions that keep old scores."""

import pytest
from django.contrib.messages import get_messages
from django.db import DatabaseError

from calls.models import AuditEvent, CheckOverride, ScorecardScore
from calls.services import scorecards
from calls.upstream import gateway
from tests.scorecards.conftest import as_request, make_scorecard, questions_of, spec
from tests.views.test_call_detail import an_ended_call_with_turns

# Run again on PostgreSQL by `make test` (the queries of versions, scores and the list filter).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "scorecard-work"}


@pytest.fixture
def version(admin):
    return make_scorecard(admin)


@pytest.fixture
def call(frozen_simulator):
    return gateway.get_client().get_call(an_ended_call_with_turns(frozen_simulator))


def automatic(version, call) -> dict[str, str]:
    """Question text → the checks' answer about the call ("yes", "no" or None)."""
    results = scorecards.automatic_results(version, scorecards.facts_of(call, end_reason=None))
    names = {pk: text for text, pk in questions_of(version).items()}
    return {names[pk]: result.answer for pk, result in results.items()}


def answers(version, **by_text) -> dict[str, str]:
    """The POST of a scorecard: ``version`` and ``q<id>`` per question (by its text)."""
    ids = questions_of(version)
    data = {"version": str(version.pk)}
    for text, value in by_text.items():
        data[f"q{ids[text.replace('_', ' ')]}"] = value
    return data


FULL = {
    "Says it is an AI": "yes",
    "Short silences": "no",
    "Handling": "3",
    "Resolved?": "na",
    "Coaching note": "Good pace.",
}


def post_data(version, **changes):
    values = {**FULL, **changes}
    ids = questions_of(version)
    data = {"version": str(version.pk)}
    data |= {f"q{ids[text]}": value for text, value in values.items() if value is not None}
    return data


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def written() -> tuple[int, ...]:
    return (
        ScorecardScore.objects.count(),
        CheckOverride.objects.count(),
        AuditEvent.objects.filter(action="score_call").count(),
    )


# --- the panel ------------------------------------------------------------------------------------


def test_the_call_page_shows_the_scorecard_pre_answered_with_evidence(
    reviewer_client, version, call
):
    response = reviewer_client.get(f"/calls/{call.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="scorecards-panel"' in html and "Quality" in html
    card = response.context["scorecards"]["cards"][0]
    rows = {row["question"].text: row for row in card["rows"]}
    said = rows["Says it is an AI"]
    assert said["automatic"].answer == "no"  # a support agent never says it
    assert said["value"] == "no"  # pre-answered
    assert said["automatic"].evidence.startswith("Not said by the agent in ")
    silence = rows["Short silences"]["automatic"]
    assert silence.seconds is not None
    assert f"?t={int(silence.seconds)}" in html  # the evidence links to its moment
    assert rows["Handling"]["automatic"] is None and rows["Handling"]["value"] == ""
    for value in ("yes", "no"):
        assert f'name="q{said["question"].pk}" value="{value}"' in html
    assert "Automatic score:" in html and "Not scored by a reviewer yet." in html
    assert "Save score" in html


def test_a_viewer_reads_the_panel_without_its_form(viewer_client, version, call):
    html = viewer_client.get(f"/calls/{call.id}/").content.decode()
    assert 'id="scorecards-panel"' in html
    assert "Your role (Viewer) can read scores but not give them." in html
    assert "Save score" not in html


def test_without_scorecards_the_call_page_has_no_panel(reviewer_client, call):
    html = reviewer_client.get(f"/calls/{call.id}/").content.decode()
    assert 'id="scorecards-panel"' not in html


def test_a_scorecard_for_other_agents_is_not_offered(reviewer_client, admin, call):
    make_scorecard(admin, agent_ids=("agent_someone_else",))
    html = reviewer_client.get(f"/calls/{call.id}/").content.decode()
    assert 'id="scorecards-panel"' not in html


# --- saving a score -------------------------------------------------------------------------------


def test_a_reviewer_saves_a_score_without_javascript(reviewer_client, version, call):
    response = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version))
    assert response.status_code == 303
    assert response["Location"] == f"/calls/{call.id}/#scorecards-panel"
    row = ScorecardScore.objects.get()
    # Yes (3) + no (1) + 3 of 4 (2) + N/A (dropped): (3 + 0 + 1.5) / 6.
    assert row.score == 75.0
    assert (row.call_id, row.version_id, row.reviewer.username) == (call.id, version.pk, "rita")
    ids = questions_of(version)
    assert row.answers[str(ids["Handling"])] == {"answer": 3}
    assert row.answers[str(ids["Coaching note"])] == {"answer": "Good pace."}
    assert row.answers[str(ids["Says it is an AI"])]["automatic"] == "no"
    assert texts(response) == ["Scorecard saved: 75 %"]
    event = AuditEvent.objects.get(action="score_call")
    assert event.call_id == call.id
    assert event.detail == "75 % on Quality (version 1); 1 automatic answer overridden"
    page = reviewer_client.get(f"/calls/{call.id}/").content.decode()
    assert "Latest score: <strong>75 %</strong> by rita" in page


def test_overriding_an_automatic_answer_is_recorded(reviewer_client, version, call):
    assert automatic(version, call) == {"Says it is an AI": "no", "Short silences": "no"}
    reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version))
    override = CheckOverride.objects.get()
    assert (override.automatic, override.answer) == ("no", "yes")
    assert override.question.text == "Says it is an AI"
    assert override.by.username == "rita" and override.call_id == call.id
    assert override.at == override.score.at
    assert override.evidence.startswith("Not said by the agent")
    history = reviewer_client.get(f"/calls/{call.id}/").content.decode()
    assert "Overrode “Says it is an AI”: automatic no → yes" in history


def test_keeping_the_automatic_answers_records_no_override(reviewer_client, version, call):
    checks = automatic(version, call)
    data = post_data(
        version,
        **{
            "Says it is an AI": checks["Says it is an AI"],
            "Short silences": checks["Short silences"],
        },
    )
    assert reviewer_client.post(f"/calls/{call.id}/scorecard", data).status_code == 303
    assert CheckOverride.objects.count() == 0
    assert "overridden" not in AuditEvent.objects.get(action="score_call").detail


def test_with_htmx_the_panel_swaps_and_announces_the_score(reviewer_client, version, call):
    response = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="scorecard-work"')
    assert 'hx-swap-oob="innerHTML">Scorecard saved: 75 %</p>' in html
    assert "Latest score: <strong>75 %</strong>" in html


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"Handling": None}, 400, "Answer “Handling”: it is mandatory."),
        ({"Says it is an AI": ""}, 400, "Answer “Says it is an AI”: it is mandatory."),
        ({"Handling": "na"}, 400, "“Handling” cannot be marked not applicable: answer it."),
        ({"Handling": "9"}, 400, "“9” is not an answer to “Handling”: choose 0, 1, 2, 3, 4."),
        ({"Resolved?": "7"}, 400, "choose Yes, Partly, No, N/A."),
        ({"Says it is an AI": "maybe"}, 400, "choose Yes, No."),
        ({"Coaching note": "x" * 2001}, 400, "at most 2000 characters"),
    ],
)
def test_a_bad_answer_is_refused_saying_why(
    reviewer_client, version, call, changes, status, message
):
    response = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version, **changes))
    assert response.status_code == status
    html = response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert message in html
    assert written() == (0, 0, 0)


def test_a_form_without_a_scorecard_or_for_none_is_refused(reviewer_client, version, call):
    url = f"/calls/{call.id}/scorecard"
    missing = reviewer_client.post(url, {"q1": "yes"})
    assert missing.status_code == 400
    assert "Choose a scorecard to fill in" in missing.content.decode()
    unknown = reviewer_client.post(url, {"version": "999"})
    assert unknown.status_code == 400 and "does not exist" in unknown.content.decode()
    assert written() == (0, 0, 0)


def test_a_viewers_post_is_refused_and_writes_nothing(viewer_client, version, call):
    response = viewer_client.post(f"/calls/{call.id}/scorecard", post_data(version))
    assert response.status_code == 403
    assert written() == (0, 0, 0)


def test_an_unknown_call_is_404(reviewer_client, version, frozen_simulator):
    for call_id in ("call_does_not_exist_0000000", "<b>"):
        response = reviewer_client.post(f"/calls/{call_id}/scorecard", post_data(version))
        assert response.status_code == 404
    assert written() == (0, 0, 0)


def test_a_database_failure_stores_nothing_and_keeps_the_answers(
    reviewer_client, version, call, monkeypatch
):
    def refuse(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(scorecards, "record_score", refuse)
    response = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version), **HTMX)
    assert response.status_code == 503
    html = response.content.decode()
    assert "Not saved: the database could not store it." in html
    assert "Good pace." in html
    assert written() == (0, 0, 0)


# --- versions -------------------------------------------------------------------------------------


def test_editing_a_scorecard_never_changes_a_score_already_given(
    reviewer_client, admin, version, call
):
    assert reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version)).status_code
    given = ScorecardScore.objects.get()
    heavier = spec(
        questions=tuple(
            scorecards.QuestionSpec(**{**q.stored(), "weight": 9, "options": q.options})
            if q.text == "Handling"
            else q
            for q in spec().questions
        )
    )
    newer = scorecards.save_scorecard(as_request(admin), scorecard=version.scorecard, spec=heavier)
    assert newer is not None and newer.number == 2
    given.refresh_from_db()
    assert (given.score, given.version_id) == (75.0, version.pk)
    assert scorecards.score_of(version, {k: v["answer"] for k, v in given.answers.items()}) == 75.0
    page = reviewer_client.get(f"/calls/{call.id}/")
    card = page.context["scorecards"]["cards"][0]
    assert card["version"].pk == newer.pk
    assert "(on version 1; the scorecard has changed since)" in page.content.decode()


def test_a_form_for_a_version_replaced_meanwhile_is_refused(reviewer_client, admin, version, call):
    scorecards.save_scorecard(
        as_request(admin), scorecard=version.scorecard, spec=spec(name="Quality 2")
    )
    response = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version))
    assert response.status_code == 409
    assert "was changed while you filled it in (it is now version 2)" in response.content.decode()
    assert written() == (0, 0, 0)


def test_a_retired_scorecard_takes_no_more_scores(reviewer_client, admin, version, call):
    scorecards.set_retired(as_request(admin), version.scorecard, retired=True)
    response = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version))
    assert response.status_code == 409 and "was retired meanwhile" in response.content.decode()
    assert 'id="scorecards-panel"' not in reviewer_client.get(f"/calls/{call.id}/").content.decode()


def test_the_scorecard_page_works_on_its_own(reviewer_client, version, call):
    page = reviewer_client.get(f"/calls/{call.id}/scorecard")
    assert page.status_code == 200
    assert "Scorecards of call" in page.content.decode()
    refused = reviewer_client.post(f"/calls/{call.id}/scorecard", post_data(version, Handling=None))
    assert refused.status_code == 400
    assert "Scorecards of call" in refused.content.decode()  # the whole page, with the form


def test_a_live_call_is_scored_once_it_has_ended(reviewer_client, version, frozen_simulator):
    from tests.views.test_call_detail import a_call_with_status

    call_id = a_call_with_status(frozen_simulator, "in-progress")
    page = reviewer_client.get(f"/calls/{call_id}/").content.decode()
    assert "its scorecards can be filled in once it has ended" in page
    assert "Save score" not in page
    response = reviewer_client.post(f"/calls/{call_id}/scorecard", post_data(version))
    assert response.status_code == 409
    assert "The call is still going" in response.content.decode()
    assert written() == (0, 0, 0)


def test_the_panel_on_its_own_is_a_view_of_the_call(reviewer_client, version, call):
    reviewer_client.get(f"/calls/{call.id}/scorecard")
    assert AuditEvent.objects.filter(action="view_call", call_id=call.id).exists()
