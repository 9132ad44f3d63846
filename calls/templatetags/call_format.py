"""Display formats shared by every call template."""

import functools

from django import template
from django.utils.html import conditional_escape, escape, format_html_join
from django.utils.safestring import mark_safe

from calls.timezones import zone_names
from calls.transcript_timing import TranscriptTiming

register = template.Library()

SPEAKER_LABELS = {"agent": "Agent", "contact": "Contact"}
# Labels whose plain capitalisation reads wrong.
LABELS = {"webrtc": "WebRTC", "in-progress": "In progress"}


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
def dollars(cents: int | None) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


@register.filter
def agent_name(agent_id: str | None, names: dict[str, str]) -> str:
    """The agent's name, or its raw id for an agent Truedy no longer lists."""
    if not agent_id:
        return ""
    return names.get(agent_id, agent_id)


@register.filter
def label(value: str | None) -> str:
    """A status, direction or outcome as words: "callback-requested" -> "Callback requested"."""
    if not value:
        return ""
    if value in LABELS:
        return LABELS[value]
    words = value.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


@register.filter
def badge_kind(value: str | None) -> str:
    """A CSS class suffix for a label: only known characters, whatever Truedy sends."""
    if not value:
        return "none"
    cleaned = "".join(c if c.isascii() and c.isalnum() else "-" for c in value.lower())
    return cleaned[:40] or "none"


@register.filter
def speaker(value: str) -> str:
    return SPEAKER_LABELS.get(value, value.capitalize() if value else "Unknown")


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
def transcript_turns(timing: TranscriptTiming, current: int | None, query: str) -> str:
    """The transcript's <li>s, with dead-air markers between them.

    Built in Python, not a template loop: a 2,000-turn call rendered through the loop's filters
    took 250 ms a page. Every value from Truedy is escaped here; ``query`` is our own canonical
    list query, already URL-encoded (ending in "&", or empty).
    """
    safe_query = escape(query)
    parts = []
    for timed in timing.turns:
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
