"""Display formats shared by every call template."""

from django import template

register = template.Library()


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
