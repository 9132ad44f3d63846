"""A scripted review of the simulator's calls, and the agreement table it produces.

The script plays a reviewer who reads every ended call of the last 16 days (the simulator's
clock): a decisive outcome (interested, booked, callback requested, ...) on a call where the
contact said at most three words is corrected to "No conversation" with a fail; every other call
passes, the AI's label standing. The simulator's "mislabelled" calls are exactly the ones it
built for that (an 8-second "Hello." labelled as interested), so the table must put those, and
only those, off the diagonal. `make review-figures` prints the table (test-artifacts/
agreement-scripted.txt).
"""

from datetime import timedelta
from pathlib import Path

from calls.archive.suspicious import contact_words, is_decisive
from calls.labels import label
from calls.models import OutcomeCorrection, Review
from calls.services import agreement
from calls.services.listing import every_matching_call
from calls.truedy.filters import CallFilters
from calls.upstream import gateway

SAID_AT_MOST = 3
NO_CONVERSATION = "no-conversation"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def review_like_a_supervisor(filters: CallFilters, reviewer) -> list[str]:
    """Reviews every call of ``filters``; returns the ids of the calls it corrected."""
    corrected = []
    client = gateway.get_client()
    for listed in every_matching_call(filters):
        call = client.get_call(listed.id)
        empty = call.transcript is not None and contact_words(call.transcript) <= SAID_AT_MOST
        if is_decisive(call.outcome) and empty:
            OutcomeCorrection.objects.create(
                call_id=call.id,
                ai_outcome=call.outcome or "",
                outcome=NO_CONVERSATION,
                reason="The contact said a word or two; nothing was agreed.",
                corrected_by=reviewer,
            )
            Review.objects.create(call_id=call.id, verdict="fail", reviewer=reviewer)
            corrected.append(call.id)
        else:
            Review.objects.create(call_id=call.id, verdict="pass", reviewer=reviewer)
    return corrected


def table_text(result: agreement.Agreement, names: dict[str, str]) -> str:
    columns = [label(column) or "no outcome" for column in result.columns]
    width = max(len(text) for text in columns + [label(r.ai) or "no outcome" for r in result.rows])
    lines = [
        f"{result.agreed} of {result.n} reviewed calls agree with the AI ({result.percent} %)",
        "",
        "AI said \\ reviewer set".ljust(width + 2) + " ".join(c.rjust(width) for c in columns),
    ]
    for row in result.rows:
        cells = " ".join(str(n).rjust(width) for _, n in row.cells)
        lines.append((label(row.ai) or "no outcome").ljust(width + 2) + cells)
    lines += ["", "Per agent:"]
    lines += [
        f"  {names.get(rate.key, rate.key)}: {rate.agreed} of {rate.n} ({rate.percent} %)"
        for rate in result.per_agent
    ]
    return "\n".join(lines) + "\n"


def test_a_scripted_review_finds_exactly_the_mislabelled_calls(frozen_simulator, reviewer):
    sim = frozen_simulator
    now = gateway.now()
    filters = CallFilters(status="ended", created_after=now - timedelta(days=16))
    corrected = review_like_a_supervisor(filters, reviewer)

    now_us = sim.clock.now_us()
    after_us = now_us - 16 * 86_400 * 1_000_000
    mislabelled = {
        skeleton.id
        for skeleton in sim.data.calls
        if skeleton.kind == "mislabelled"
        and skeleton.status_at(now_us) == "ended"
        and skeleton.created > after_us
    }
    assert len(mislabelled) == 6
    assert set(corrected) == mislabelled

    result = agreement.for_filters(filters)
    reviewed = Review.objects.count()
    assert result.n == reviewed > 40
    assert result.agreed == reviewed - len(mislabelled)
    assert NO_CONVERSATION in result.columns
    off_diagonal = {
        (row.ai, column) for row in result.rows for column, n in row.cells if n and column != row.ai
    }
    assert {column for _, column in off_diagonal} == {NO_CONVERSATION}
    assert {ai for ai, _ in off_diagonal} >= {"interested", "booked", "callback-requested"}

    names = {agent.id: agent.name for agent in sim.data.agents}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "agreement-scripted.txt").write_text(table_text(result, names))
