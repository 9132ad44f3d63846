"""Display formats shared by every call template."""

import functools
from collections.abc import Iterable, Mapping
from html import escape as _escape  # Django's escape() with no lazy-string wrapper
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe

from calls import labels
from calls.archive.search import MatchingLine
from calls.models import Verdict
from calls.services import live
from calls.services.corrections import EffectiveOutcome
from calls.services.reviews import ReviewFacts
from calls.services.row_media import Media, RowMedia
from calls.services.transcripts import TimedTurn
from calls.truedy.records import SPEAKER_LABELS, Call
from calls.upstream.gateway import now as upstream_now

register = template.Library()

label = register.filter("label", labels.label)
speaker = register.filter("speaker", labels.speaker)
dollars = register.filter("dollars", labels.dollars)

# The list's columns (call_list.html's <thead>): a search hit's row spans them all.
TABLE_COLUMNS = 10


@register.filter
def duration(seconds: int | float | None) -> str:
    """m:ss, or h:mm:ss from an hour up."""
    if seconds is None:
        return ""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def agent_name(agent_id: str | None, names: dict[str, str]) -> str:
    """The agent's name, or its raw id for an agent Truedy no longer lists."""
    if not agent_id:
        return ""
    return names.get(agent_id, agent_id)


@register.filter
@functools.lru_cache(maxsize=512)
def badge_kind(value: str | None) -> str:
    """A CSS class suffix for a label: only known characters, whatever Truedy sends."""
    if not value:
        return "none"
    cleaned = "".join(c if c.isascii() and c.isalnum() else "-" for c in value.lower())
    return cleaned[:40] or "none"


@register.filter
def speaker_kind(value: str) -> str:
    return value if value in SPEAKER_LABELS else "other"


@register.simple_tag
def transcript_turns(
    turns: Iterable[TimedTurn],
    current: int | None,
    query: str,
    notes_html: Mapping[int | None, str] | None = None,
) -> str:
    """The <li>s of these turns of the transcript, with dead-air markers between them, and
    the notes on a turn inside it (``notes_html``: turn number -> its rendered notes).

    Built in Python, not a template loop: a 2,000-turn call rendered through the loop's filters
    took 250 ms a page. Every value from Truedy is escaped here; ``query`` is our own canonical
    list query, already URL-encoded (ending in "&", or empty).
    """
    safe_query = escape(query)
    parts = []
    for timed in turns:
        if timed.silence_marked:
            parts.append(
                f'<li class="silence"><span>{timed.silence_before:.0f} s silence</span></li>\n'
            )
        who = escape(speaker(timed.turn.speaker))
        at = duration(timed.start)
        start = f"{timed.start:.2f}"
        marked = ' aria-current="true"' if timed.number == current else ""
        parts.append(
            f'<li class="turn turn-{speaker_kind(timed.turn.speaker)}" id="turn-{timed.number}"'
            f' data-start="{start}"{marked}><span class="who">{who}</span>'
            f' <a class="at" href="?{safe_query}t={start}"'
            f' aria-label="{who} at {at}: play from here">{at}</a>'
            f"<p>{escape(timed.turn.text)}</p>{(notes_html or {}).get(timed.number, '')}</li>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 (every interpolated value is escaped above)


@register.simple_tag
def call_table_rows(
    call_rows: Iterable[tuple[Call, MatchingLine | None]],
    row_query: str,
    agent_names: dict[str, str],
    find: str = "",
    verdicts: Mapping[str, ReviewFacts] | None = None,
    outcomes: Mapping[str, EffectiveOutcome] | None = None,
    media: Mapping[str, RowMedia] | None = None,
) -> str:
    """The list's <tr>s: ``call_rows`` is ``[(call, matching line or None), ...]``; ``find``
    is the search whose matching lines they carry; ``verdicts`` and ``outcomes`` the review
    work on them (a call's latest verdict, its outcome after corrections); ``media`` whether
    each has a recording and a transcript (``calls.services.row_media``).

    Built in Python for the same reason as the transcript: through the template's filters a
    50-row page spent most of its time in ~600 filter calls. Every value from Truedy is
    escaped here; ``row_query`` is our own canonical, URL-encoded list query.
    """
    # One reverse() for the page; each id is quoted as reverse() would, "/" included, so an odd
    # id from Truedy makes a link to our 404 page rather than a broken page.
    prefix = reverse("calls:call_detail", args=["-"])[:-2]
    now = upstream_now()  # the live updates' data- attributes judge every row on one clock
    suffix = f"/?{row_query}"
    parts = []
    for call, line in call_rows:
        href = prefix + quote(call.id, safe=RFC3986_SUBDELIMS + "~:@") + suffix
        created = timezone.localtime(call.created_at) if call.created_at else None
        when = (
            f'<time datetime="{created.isoformat()}">{created:%Y-%m-%d %H:%M}</time>'
            if created
            else "—"
        )
        outcome = outcome_html(call.outcome, (outcomes or {}).get(call.id))
        verdict = verdict_html((verdicts or {}).get(call.id))
        parts.append(
            f"<tr{live.row_data(call, now)}>"
            f'<td data-label="Created"><a class="row-link" href="{_escape(href)}">{when}</a></td>'
            f'<td data-label="Agent">{_escape(agent_name(call.agent_id, agent_names) or "—")}</td>'
            f'<td data-label="Direction">{_escape(label(call.direction) or "—")}</td>'
            f'<td data-label="Status"><span class="badge status-{badge_kind(call.status)}">'
            f"{_escape(label(call.status))}</span></td>"
            f'<td data-label="Contact">{_escape(call.contact_number or "—")}</td>'
            f'<td data-label="Duration" class="num">{duration(call.duration_seconds) or "—"}</td>'
            f'<td data-label="Media" class="media">{media_html((media or {}).get(call.id))}</td>'
            f'<td data-label="Outcome">{outcome}</td>'
            f'<td data-label="Cost" class="num">{dollars(call.cost_cents) or "—"}</td>'
            f'<td data-label="Review">{verdict}</td>'
            "</tr>\n"
        )
        if line:
            parts.append(_hit_row(line, href, find))
    return mark_safe("".join(parts))  # noqa: S308 (every interpolated value is escaped above)


def _hit_row(line: MatchingLine, call_href: str, find: str) -> str:
    """A search hit under its call's row, linking to the call cued at the matching turn with
    the search in its find box (a summary hit opens the call at its start)."""
    found = "".join(
        f"<mark>{_escape(text)}</mark>" if hit else _escape(text) for text, hit in line.parts
    )
    params = ([f"t={line.seconds:.2f}"] if line.seconds is not None else []) + [
        f"find={quote(find)}"
    ]
    href = call_href + ("" if call_href.endswith("?") else "&") + "&".join(params)
    at = f" at {duration(line.seconds)}" if line.seconds is not None else ""
    return (
        f'<tr class="match"><td colspan="{TABLE_COLUMNS}" data-label="Found">'
        f'<a class="hit-link" href="{_escape(href)}">'
        f'<span class="who">{_escape(line.source)}{at}:</span> {found}</a></td></tr>\n'
    )


def outcome_html(ai_outcome: str | None, effective: EffectiveOutcome | None) -> str:
    """The outcome that counts as a badge; a corrected one also says what the AI said."""
    shown = effective.outcome if effective is not None else ai_outcome
    if not shown:
        return "—"
    badge = f'<span class="badge outcome-{badge_kind(shown)}">{_escape(label(shown))}</span>'
    if effective is None or not effective.corrected:
        return badge
    said = _escape(label(effective.ai_outcome) or "no outcome")
    who = _escape(effective.corrected_by or "")
    return (
        f'{badge} <span class="corrected" title="Corrected by {who}">'
        f"AI said {said} · supervisor set {_escape(label(shown))}</span>"
    )


@register.simple_tag
def effective_outcome_badge(call: Call, effective: EffectiveOutcome | None) -> str:
    """``outcome_html`` for a template (the call page)."""
    return mark_safe(outcome_html(call.outcome, effective))  # noqa: S308 (escaped inside)


def verdict_html(facts: ReviewFacts | None) -> str:
    if facts is None:
        return '<span class="muted">Unreviewed</span>'
    return (
        f'<span class="badge verdict-{_escape(facts.verdict)}" '
        f'title="{_escape(facts.reviewer)}, {facts.at:%Y-%m-%d %H:%M}">'
        f"{_escape(Verdict(facts.verdict).label)}</span>"
    )


# --- recording and transcript icons on the list's rows --------------------------------------

# (what, state) -> the words a row says: the icon's text alternative and its tooltip.
_MEDIA_WORDS = {
    Media.YES: "{what}",
    Media.ARCHIVED: "{what} (archived copy)",
    Media.EXPIRED: "{what} expired",
    Media.LATER: "{what} not ready yet",
    Media.NO: "No {lower}",
    Media.UNKNOWN: "{what} unknown",
}
_MEDIA_GLYPHS = {
    # 16x16, drawn with currentColor: a loudspeaker with sound waves; a page of text.
    "recording": '<path d="M1.5 5.5h3l4-3.5v12l-4-3.5h-3z" fill="currentColor"/>'
    '<path d="M11 5.2a4 4 0 0 1 0 5.6M12.9 3.2a7 7 0 0 1 0 9.6" fill="none" '
    'stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/>',
    "transcript": '<rect x="2.5" y="1.5" width="11" height="13" rx="1.5" fill="none" '
    'stroke="currentColor" stroke-width="1.4"/><path d="M5 5h6M5 8h6M5 11h4" '
    'stroke="currentColor" stroke-width="1.4" stroke-linecap="round"/>',
}


@register.simple_tag
def media_icon_symbols() -> str:
    """The two icons once a page (``<symbol>``s the rows' ``<use>`` point at), so a 100-row
    page does not carry 200 copies of them."""
    symbols = "".join(
        f'<symbol id="icon-{what}" viewBox="0 0 16 16">{glyph}</symbol>'
        for what, glyph in _MEDIA_GLYPHS.items()
    )
    return mark_safe(  # noqa: S308 (constant markup)
        f'<svg class="icon-symbols" aria-hidden="true" focusable="false">{symbols}</svg>'
    )


def media_html(facts: RowMedia | None) -> str:
    """A row's recording and transcript icons, each with its words for assistive technology
    (and as a tooltip); the state shows as a shape too (a slash, "?", "…"), never colour alone."""
    if facts is None:
        return "—"
    return _media_icon("recording", facts.recording) + _media_icon("transcript", facts.transcript)


@functools.lru_cache(maxsize=32)
def _media_icon(what: str, state: Media) -> str:
    words = _MEDIA_WORDS[state].format(what=what.capitalize(), lower=what)
    return (
        f'<span class="media-icon media-{state}" title="{words}">'
        f'<svg aria-hidden="true" focusable="false" width="16" height="16">'
        f'<use href="#icon-{what}"></use></svg>'
        f'<span class="visually-hidden">{words}</span></span>'
    )
