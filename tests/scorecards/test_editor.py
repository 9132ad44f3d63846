"""Defining scorecards in the dashboard (calls/views/scorecards.py): only an Admin, every bad
value named, each edit a new version, nothing written for a refused role."""

import pytest
from django.contrib.messages import get_messages

from calls.models import AuditEvent, Scorecard, ScorecardQuestion, ScorecardVersion
from tests.scorecards.conftest import make_scorecard

# Run again on PostgreSQL by `make test` (the queries of versions, scores and the list filter).
pytestmark = [pytest.mark.django_db, pytest.mark.shared_backends]


def editor_data(**changes) -> dict[str, str]:
    """A valid editor form: two questions, the first automatic."""
    data = {
        "name": "Disclosure",
        "description": "Did the agent say what it is?",
        "scope": "all",
        "q-TOTAL_FORMS": "3",
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "40",
        "q-0-text": "Says it is an AI",
        "q-0-kind": "yes_no",
        "q-0-weight": "3",
        "q-0-mandatory": "on",
        "q-0-check": "phrase",
        "q-0-check_who": "agent",
        "q-0-check_said": "said",
        "q-0-check_phrases": "AI assistant | automated assistant",
        "q-0-ORDER": "1",
        "q-1-text": "How was it handled?",
        "q-1-kind": "scale",
        "q-1-weight": "2",
        "q-1-scale_max": "5",
        "q-1-check_who": "agent",
        "q-1-check_said": "said",
        "q-1-ORDER": "2",
        # The blank row the editor always offers: left as it came, it is ignored.
        "q-2-text": "",
        "q-2-kind": "yes_no",
        "q-2-weight": "1",
        "q-2-check_who": "agent",
        "q-2-check_said": "said",
    }
    return data | changes


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def written() -> tuple[int, ...]:
    return (
        Scorecard.objects.count(),
        ScorecardVersion.objects.count(),
        ScorecardQuestion.objects.count(),
        AuditEvent.objects.filter(action="change_scorecard").count(),
    )


def test_an_admin_defines_a_scorecard(admin_client):
    page = admin_client.get("/scorecards/new")
    assert page.status_code == 200
    assert 'name="q-0-text"' in page.content.decode()
    response = admin_client.post("/scorecards/new", editor_data())
    assert response.status_code == 303
    version = ScorecardVersion.objects.get()
    assert response["Location"] == f"/scorecards/{version.scorecard_id}/"
    assert (version.number, version.name, version.agent_ids) == (1, "Disclosure", [])
    questions = list(version.questions.order_by("position"))
    assert [(q.position, q.text, q.kind, q.weight) for q in questions] == [
        (1, "Says it is an AI", "yes_no", 3),
        (2, "How was it handled?", "scale", 2),
    ]
    assert questions[0].mandatory and questions[0].auto_check == {
        "kind": "phrase",
        "speaker": "agent",
        "phrases": "AI assistant|automated assistant",
        "said": True,
    }
    assert questions[1].scale_max == 5 and questions[1].auto_check is None
    assert texts(response) == [
        "Saved “Disclosure”, version 1. Scores already given keep the version they were given on."
    ]
    event = AuditEvent.objects.get(action="change_scorecard")
    assert event.username == "ada" and "version 1" in event.detail
    detail = admin_client.get(response["Location"]).content.decode()
    assert "The agent says “AI assistant” or “automated assistant”" in detail


@pytest.mark.parametrize("role", ["viewer", "reviewer"])
def test_only_an_admin_may_open_or_post_the_editor(request, role, admin):
    client = request.getfixturevalue(f"{role}_client")
    scorecard = make_scorecard(admin).scorecard
    before = written()
    for url in ("/scorecards/new", f"/scorecards/{scorecard.pk}/edit"):
        assert client.get(url).status_code == 403
        refused = client.post(url, editor_data())
        assert refused.status_code == 403
        assert "Defining scorecards needs the Admin role" in refused.content.decode()
    retire = client.post(f"/scorecards/{scorecard.pk}/retire", {"action": "retire"})
    assert retire.status_code == 403
    assert written() == before
    assert Scorecard.objects.get().retired_at is None


def test_everyone_on_staff_reads_the_scorecards(viewer_client, admin):
    version = make_scorecard(admin)
    listing = viewer_client.get("/scorecards/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Quality" in html and "New scorecard" not in html
    detail = viewer_client.get(f"/scorecards/{version.scorecard_id}/")
    assert detail.status_code == 200
    assert "Edit (makes version 2)" not in detail.content.decode()
    assert viewer_client.get("/scorecards/999/").status_code == 404
    missing = viewer_client.get(f"/scorecards/{version.scorecard_id}/?version=7")
    assert missing.status_code == 404 and "no version “7”" in missing.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "Name: Give the scorecard a name."),
        ({"scope": "agents"}, "Choose at least one agent, or apply the scorecard to every call."),
        ({"scope": "some"}, "Apply the scorecard to every call or to some agents."),
        ({"q-1-scale_max": ""}, "Question 2, Scale up to: A scale question needs its top value"),
        ({"q-1-scale_max": "99"}, "The top of a scale is a whole number from 1 to 10."),
        ({"q-0-weight": "-1"}, "Question 1, Weight: A weight is a whole number from 0 to 100."),
        ({"q-0-weight": "abc"}, "A weight is a whole number from 0 to 100."),
        ({"q-0-text": ""}, "Question 1, Question: Write the question."),
        ({"q-0-kind": "essay"}, "“essay” is not a kind of answer."),
        ({"q-0-check_phrases": " | "}, "Question 1: A phrase said (or never said): Give at least"),
        ({"q-0-check": "bogus"}, "“bogus” is not an automatic check."),
        (
            {"q-1-check": "duration", "q-1-check_min": "10"},
            "An automatic check answers yes or no: make this a yes/no question.",
        ),
        (
            {"q-0-check": "talk_share", "q-0-check_min": "80", "q-0-check_max": "20"},
            "The minimum must not be above the maximum.",
        ),
        ({"q-0-check": "longest_silence"}, "Give the longest silence allowed, in seconds."),
        ({"q-0-check": "ended_by", "q-0-check_who": "anyone"}, "the agent or the contact"),
        ({"q-0-check_min": "soon"}, "Minimum: give a number."),
        (
            {"q-1-kind": "choice", "q-1-options": "Resolved\nNot resolved = 0"},
            "Option 1 (“Resolved”) needs a name and its credit in percent",
        ),
        ({"q-1-kind": "choice", "q-1-options": "Only = 100"}, "at least two options"),
        ({"q-1-kind": "choice", "q-1-options": "A = 100\nB = 150"}, "a credit is 0 to 100 %"),
        ({"q-1-kind": "choice", "q-1-options": "A = 100\na = 0"}, "Option “a” is there twice."),
        ({"q-0-weight": "0", "q-1-weight": "0"}, "At least one question must carry weight"),
        ({"q-1-text": "says it is an ai"}, "Two questions ask the same thing"),
        ({"q-0-DELETE": "on", "q-1-DELETE": "on"}, "A scorecard needs at least one question."),
        ({"q-TOTAL_FORMS": ""}, "The list of questions arrived incomplete"),
        ({"q-TOTAL_FORMS": "45"}, "A scorecard has at most 40 questions."),
    ],
)
def test_a_bad_definition_is_shown_again_saying_what_is_wrong(admin_client, changes, message):
    response = admin_client.post("/scorecards/new", editor_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Not saved: fix" in html
    assert message.replace("“", "&ldquo;").replace("”", "&rdquo;") in html or message in (
        html.replace("&#x27;", "'")
    ), html[html.find("editor-errors") : html.find("editor-errors") + 1500]
    assert ScorecardVersion.objects.count() == 0


def test_a_text_question_is_never_scored(admin_client):
    data = editor_data(**{"q-1-kind": "text", "q-1-weight": "5"})
    assert admin_client.post("/scorecards/new", data).status_code == 303
    question = ScorecardQuestion.objects.get(kind="text")
    assert question.weight == 0 and question.scale_max is None


def test_agents_and_positions_are_kept(admin_client, frozen_simulator):
    agent = frozen_simulator.data.agents[0].id
    data = editor_data(scope="agents", agent_ids=[agent], **{"q-0-ORDER": "5"})
    assert admin_client.post("/scorecards/new", data).status_code == 303
    version = ScorecardVersion.objects.get()
    assert version.agent_ids == [agent]
    assert [q.text for q in version.questions.order_by("position")] == [
        "How was it handled?",
        "Says it is an AI",
    ]


def test_add_a_question_shows_one_more_row_and_saves_nothing(admin_client):
    response = admin_client.post("/scorecards/new", editor_data(add_question="1", name=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="q-3-text"' in html and "Question 4" in html
    assert 'value="Says it is an AI"' in html  # what was typed stays
    assert "Not saved" not in html  # no complaints about a form not sent
    assert ScorecardVersion.objects.count() == 0


def test_editing_makes_a_new_version_and_keeps_the_old_one(admin_client, admin):
    first = make_scorecard(admin)
    page = admin_client.get(f"/scorecards/{first.scorecard_id}/edit")
    assert page.status_code == 200
    form = page.context["questions"]
    data = {**editor_data(), "name": "Quality", "description": "", "scope": "all"}
    # Post the editor back as it was, then with one weight changed.
    data = {key: value for key, value in data.items() if not key.startswith("q-")}
    data |= {
        "q-TOTAL_FORMS": str(form.total_form_count()),
        "q-INITIAL_FORMS": str(form.initial_form_count()),
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "40",
    }
    for index, question_form in enumerate(form.forms):
        for name, field in question_form.fields.items():
            value = question_form.initial.get(name, field.initial)
            if value is None or value is False:
                continue
            data[f"q-{index}-{name}"] = "on" if value is True else str(value)
    unchanged = admin_client.post(f"/scorecards/{first.scorecard_id}/edit", data)
    assert unchanged.status_code == 303, unchanged.content.decode()[:3000]
    assert texts(unchanged) == ["Nothing changed: the scorecard is still version 1."]
    assert ScorecardVersion.objects.count() == 1
    data["q-2-weight"] = "7"
    changed = admin_client.post(f"/scorecards/{first.scorecard_id}/edit", data)
    assert changed.status_code == 303
    versions = list(ScorecardVersion.objects.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert [q.weight for q in versions[0].questions.order_by("position")] == [3, 1, 2, 2, 0]
    assert [q.weight for q in versions[1].questions.order_by("position")] == [3, 1, 7, 2, 0]
    old = admin_client.get(f"/scorecards/{first.scorecard_id}/?version=1").content.decode()
    assert "an earlier version: the current one is 2" in old


def test_a_retired_scorecard_can_be_brought_back(admin_client, admin):
    scorecard = make_scorecard(admin).scorecard
    url = f"/scorecards/{scorecard.pk}/retire"
    assert admin_client.post(url, {"action": "retire"}).status_code == 303
    scorecard.refresh_from_db()
    assert scorecard.retired_at is not None
    assert "Retired on" in admin_client.get(f"/scorecards/{scorecard.pk}/").content.decode()
    assert admin_client.post(url, {"action": "restore"}).status_code == 303
    scorecard.refresh_from_db()
    assert scorecard.retired_at is None
    bad = admin_client.post(url, {"action": "delete"})
    assert bad.status_code == 400 and "retire the scorecard or bring it back" in (
        bad.content.decode()
    )
