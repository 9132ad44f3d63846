"""Display formats shared by every call template."""

import functools
from collections.abc import Iterable
from html import escape as _escape  # Django's escape() with no lazy-string wrapper
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, escape, format_html_join
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe

from calls import labels
from calls.archive.search import MatchingLine
from calls.lib.timezones import zone_names
from calls.services.transcripts import TimedTurn
from calls.truedy.records import SPEAKER_LABELS, Call

register = template.Library()

label = register.filter("label", labels.label)
speaker = register.filter("speaker", labels.speaker)
dollars = register.filter("dollars", labels.dollars)


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


@register.filter
def bound_input_type(value: str | None) -> str:
    """The input that can show a date filter as typed: date, datetime-local, or plain text."""
    if not value:
        return "date"
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        return "date"
    if len(value) in (16, 19) and value[10] == "T" and value.count(":") in (1, 2):
        return "datetime-local"
    return "text"


@register.simple_tag
def zone_options(selected: str) -> str:
    """The ~430 <option>s of the time-zone select, built once: a template loop over them
    costs more than rendering the whole call table."""
    options = _zone_options()
    name = conditional_escape(selected)
    chosen = f"<option>{name}</option>"
    if chosen in options:
        return mark_safe(options.replace(chosen, f"<option selected>{name}</option>", 1))  # noqa: S308
    return mark_safe(options + f"<option selected>{name}</option>")  # noqa: S308


@functools.cache
def _zone_options() -> str:
    return format_html_join("", "<option>{}</option>", ((name,) for name in zone_names()))


@register.simple_tag
def transcript_turns(turns: Iterable[TimedTurn], current: int | None, query: str) -> str:
    """The <li>s of these turns of the transcript, with dead-air markers between them.

    Built in Python, not a template loop: a 2,000-turn call rendered through the loop's filters
    took 250 ms a page. Every value from Truedy is escaped here; ``query`` is our own canonical
    list query, already URL-encoded (ending in "&", or empty).
    """
    safe_query = escape(query)
    parts = []
    for timed in turns:
        if timed.dead_air_before:
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
            f"<p>{escape(timed.turn.text)}</p></li>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 (every interpolated value is escaped above)


@register.simple_tag
def call_table_rows(
    call_rows: Iterable[tuple[Call, MatchingLine | None]],
    row_query: str,
    agent_names: dict[str, str],
) -> str:
    """The list's <tr>s: ``call_rows`` is ``[(call, matching line or None), ...]``.

    Built in Python for the same reason as the transcript: through the template's filters a
    50-row page spent most of its time in ~600 filter calls. Every value from Truedy is
    escaped here; ``row_query`` is our own canonical, URL-encoded list query.
    """
    # One reverse() for the page; each id is quoted as reverse() would, "/" included, so an odd
    # id from Truedy makes a link to our 404 page rather than a broken page.
    prefix = reverse("calls:call_detail", args=["-"])[:-2]
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
        outcome = (
            f'<span class="badge outcome-{badge_kind(call.outcome)}">'
            f"{_escape(label(call.outcome))}</span>"
            if call.outcome
            else "—"
        )
        parts.append(
            "<tr>"
            f'<td data-label="Created"><a class="row-link" href="{_escape(href)}">{when}</a></td>'
            f'<td data-label="Agent">{_escape(agent_name(call.agent_id, agent_names) or "—")}</td>'
            f'<td data-label="Direction">{_escape(label(call.direction) or "—")}</td>'
            f'<td data-label="Status"><span class="badge status-{badge_kind(call.status)}">'
            f"{_escape(label(call.status))}</span></td>"
            f'<td data-label="Contact">{_escape(call.contact_number or "—")}</td>'
            f'<td data-label="Duration" class="num">{duration(call.duration_seconds) or "—"}</td>'
            f'<td data-label="Outcome">{outcome}</td>'
            f'<td data-label="Cost" class="num">{dollars(call.cost_cents) or "—"}</td>'
            "</tr>\n"
        )
        if line:
            found = "".join(
                f"<mark>{_escape(text)}</mark>" if hit else _escape(text)
                for text, hit in line.parts
            )
            parts.append(
                f'<tr class="match"><td colspan="8" data-label="Found">'
                f'<span class="who">{_escape(line.source)}:</span> {found}</td></tr>\n'
            )
    return mark_safe("".join(parts))  # noqa: S308 (every interpolated value is escaped above)
