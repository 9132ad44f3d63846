"""The agents page's trend per day: a small inline SVG per row, drawn as the totals' sparkline
is (calls.templatetags.charts): no JavaScript, no inline styles, an image to assistive
technology whose ``<title>`` says the figures; each row's title has its own id."""

from collections.abc import Sequence
from datetime import date

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

TREND_WIDTH, TREND_HEIGHT, TREND_PAD = 120, 28, 3  # px


@register.simple_tag
def agent_trend(per_day: Sequence[tuple[date, int]], key: object) -> SafeString:
    """Calls per day as a line (one day: a bar), the busiest day marked; ``key`` makes the
    title's id unique on the page."""
    if not per_day:
        return mark_safe("")
    counts = [count for _, count in per_day]
    peak = max(counts) or 1
    busiest = max(range(len(counts)), key=lambda i: (counts[i], -i))
    plot = TREND_HEIGHT - 2 * TREND_PAD
    step = TREND_WIDTH / max(len(counts) - 1, 1)

    def point(i: int) -> tuple[float, float]:
        return round(i * step, 1), round(TREND_PAD + plot * (1 - counts[i] / peak), 1)

    first, last = per_day[0][0], per_day[-1][0]
    title = (
        f"Calls per day, {first.isoformat()} to {last.isoformat()}: {sum(counts):,} in all, "
        f"busiest {per_day[busiest][0].isoformat()} with {counts[busiest]:,}"
    )
    if len(counts) == 1:
        drawn = format_html(
            '<rect class="chart-bar" x="0" y="{}" width="12" height="{}"></rect>',
            TREND_PAD,
            plot if counts[0] else 0,
        )
    else:
        peak_x, peak_y = point(busiest)
        drawn = format_html(
            '<polyline class="chart-line" fill="none" points="{}"></polyline>'
            '<circle class="chart-peak" cx="{}" cy="{}" r="2"></circle>',
            " ".join(f"{x},{y}" for x, y in map(point, range(len(counts)))),
            peak_x,
            peak_y,
        )
    return format_html(
        '<svg class="chart agent-trend" role="img" aria-labelledby="trend-{}"'
        ' viewBox="-2 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="trend-{}">{}</title>{}</svg>',
        key,
        TREND_WIDTH + 4,
        TREND_HEIGHT,
        TREND_WIDTH + 4,
        TREND_HEIGHT,
        key,
        title,
        drawn,
    )
