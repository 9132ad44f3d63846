"""Small server-rendered SVG charts for the list's totals: no JavaScript, no inline styles (the
CSP allows neither); colours come from classes in app.css.

Each chart is an image to assistive technology (``role="img"``) whose ``<title>`` states every
figure it draws; the labels and figures are also drawn as ``<text>``. Every value from Truedy (an
outcome can be any string) goes through ``format_html``, which escapes it.
"""

from collections.abc import Sequence
from datetime import date

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from calls.labels import label
from calls.templatetags.call_format import badge_kind

register = template.Library()

NO_OUTCOME = "No outcome"
NONE_RECORDED = "No outcomes recorded for these calls."
LABEL_CHARS = 18  # an outcome name is cut to this many characters in the chart
BAR_ROW = 22  # px per bar
LABEL_WIDTH, BAR_WIDTH, FIGURE_WIDTH = 130, 150, 80
SPARK_WIDTH, SPARK_HEIGHT, SPARK_TOP, SPARK_BOTTOM = 320, 64, 8, 18
ONE_DAY_BAR, ONE_DAY_WIDTH = 36, 300  # px: the bar of a single day, and its whole chart
MIX_WIDTH, MIX_HEIGHT, MIX_GAP = 140, 12, 1  # px: the strip's stacked bar, a gap per segment


def _join(parts: Sequence[SafeString]) -> SafeString:
    return mark_safe("".join(parts))  # noqa: S308 (every part comes from format_html)


def outcome_name(outcome: str) -> str:
    return label(outcome) or NO_OUTCOME


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


@register.simple_tag
def outcome_bars(outcomes: Sequence[tuple[str, int]], counted: int) -> SafeString:
    """A horizontal bar per outcome, longest for the most frequent, with count and share.

    When no call has an outcome, a bar saying so would read as a finding: the words say it."""
    if not outcomes or counted <= 0:
        return mark_safe("")
    if not any(outcome for outcome, _ in outcomes):
        return format_html('<p class="muted chart-none">{}</p>', NONE_RECORDED)
    most = max(count for _, count in outcomes)
    figures = [
        (outcome_name(outcome), count, round(100 * count / counted)) for outcome, count in outcomes
    ]
    title = "Outcomes: " + "; ".join(
        f"{name} {count:,} ({share}%)" for name, count, share in figures
    )
    height = BAR_ROW * len(figures)
    rows = []
    for index, (name, count, share) in enumerate(figures):
        y = index * BAR_ROW
        width = max(1, round(BAR_WIDTH * count / most))
        rows.append(
            format_html(
                '<text class="chart-label" x="0" y="{}">{}</text>'
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="chart-figure" x="{}" y="{}">{} ({}%)</text>',
                y + 15,
                _short(name),
                LABEL_WIDTH,
                y + 4,
                width,
                BAR_ROW - 8,
                LABEL_WIDTH + width + 6,
                y + 15,
                f"{count:,}",
                share,
            )
        )
    total_width = LABEL_WIDTH + BAR_WIDTH + FIGURE_WIDTH
    return format_html(
        '<svg class="chart outcome-chart" role="img" aria-labelledby="outcome-chart-title"'
        ' viewBox="0 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="outcome-chart-title">{}</title>{}</svg>',
        total_width,
        height,
        total_width,
        height,
        title,
        _join(rows),
    )


@register.simple_tag
def outcome_mix(outcomes: Sequence[tuple[str, int]], counted: int) -> SafeString:
    """The outcome mix as one stacked bar for the totals strip: a segment per outcome in
    proportion, most frequent first, coloured by outcome (``mix-<outcome>`` in app.css); its
    ``<title>`` says every share in words, as ``outcome_bars`` draws them with labels."""
    if not outcomes or counted <= 0:
        return mark_safe("")
    if not any(outcome for outcome, _ in outcomes):
        return format_html('<span class="muted strip-none">{}</span>', NONE_RECORDED)
    figures = [(outcome, count, round(100 * count / counted)) for outcome, count in outcomes]
    title = "Outcomes: " + "; ".join(
        f"{outcome_name(outcome)} {count:,} ({share}%)" for outcome, count, share in figures
    )
    segments, x = [], 0.0
    for outcome, count, _ in figures:
        width = MIX_WIDTH * count / counted
        segments.append(
            format_html(
                '<rect class="mix mix-{}" x="{}" y="0" width="{}" height="{}"></rect>',
                badge_kind(outcome),
                round(x, 2),
                round(max(width - MIX_GAP, 0.5), 2),
                MIX_HEIGHT,
            )
        )
        x += width
    return format_html(
        '<svg class="chart outcome-mix" role="img" aria-labelledby="outcome-mix-title"'
        ' viewBox="0 0 {} {}" width="{}" height="{}" preserveAspectRatio="none"'
        ' xmlns="http://www.w3.org/2000/svg"><title id="outcome-mix-title">{}</title>{}</svg>',
        MIX_WIDTH,
        MIX_HEIGHT,
        MIX_WIDTH,
        MIX_HEIGHT,
        title,
        _join(segments),
    )


@register.simple_tag
def calls_per_day(per_day: Sequence[tuple[date, int]]) -> SafeString:
    """A sparkline of calls per day, its first and last day and its busiest day labelled (dates
    as YYYY-MM-DD, like the table's times); a single day is one bar, not a lone dot."""
    if not per_day:
        return mark_safe("")
    if len(per_day) == 1:
        return _one_day(*per_day[0])
    counts = [count for _, count in per_day]
    busiest = max(range(len(per_day)), key=lambda i: (counts[i], -i))
    peak = max(counts) or 1
    plot = SPARK_HEIGHT - SPARK_TOP - SPARK_BOTTOM
    step = SPARK_WIDTH / (len(per_day) - 1)

    def point(i: int) -> tuple[float, float]:
        return round(i * step, 1), round(SPARK_TOP + plot * (1 - counts[i] / peak), 1)

    points = " ".join(f"{x},{y}" for x, y in map(point, range(len(per_day))))
    first, last = per_day[0][0], per_day[-1][0]
    peak_x, peak_y = point(busiest)
    title = (
        f"Calls per day, {first.isoformat()} to {last.isoformat()}: {sum(counts):,} in all, "
        f"busiest {per_day[busiest][0].isoformat()} with {counts[busiest]:,}"
    )
    baseline = SPARK_HEIGHT - SPARK_BOTTOM
    return format_html(
        '<svg class="chart sparkline" role="img" aria-labelledby="calls-per-day-title"'
        ' viewBox="-4 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="calls-per-day-title">{}</title>'
        '<line class="chart-axis" x1="0" y1="{}" x2="{}" y2="{}"></line>'
        '<polyline class="chart-line" fill="none" points="{}"></polyline>'
        '<circle class="chart-peak" cx="{}" cy="{}" r="3"></circle>'
        '<text class="chart-figure" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="chart-label" x="0" y="{}">{}</text>'
        '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
        "</svg>",
        SPARK_WIDTH + 8,
        SPARK_HEIGHT,
        SPARK_WIDTH + 8,
        SPARK_HEIGHT,
        title,
        baseline,
        SPARK_WIDTH,
        baseline,
        points,
        peak_x,
        peak_y,
        min(max(peak_x, 12), SPARK_WIDTH - 12),
        max(peak_y - 2, 7),
        f"{counts[busiest]:,}",
        SPARK_HEIGHT - 3,
        first.isoformat(),
        SPARK_WIDTH,
        SPARK_HEIGHT - 3,
        last.isoformat(),
    )


def _one_day(day: date, count: int) -> SafeString:
    """One day's calls as a bar (full height: there is nothing to compare it with) with its
    figure and date, and the same in words beside it."""
    plot = SPARK_HEIGHT - SPARK_TOP - SPARK_BOTTOM
    baseline = SPARK_HEIGHT - SPARK_BOTTOM
    height = plot if count else 0
    words = f"{count:,} call{'' if count == 1 else 's'} on {day.isoformat()}"
    return format_html(
        '<svg class="chart one-day" role="img" aria-labelledby="calls-per-day-title"'
        ' viewBox="0 0 {} {}" width="{}" height="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="calls-per-day-title">Calls per day: {}</title>'
        '<line class="chart-axis" x1="0" y1="{}" x2="{}" y2="{}"></line>'
        '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
        '<text class="chart-figure" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>'
        '<text class="chart-words" x="{}" y="{}">{}</text>'
        "</svg>",
        ONE_DAY_WIDTH,
        SPARK_HEIGHT,
        ONE_DAY_WIDTH,
        SPARK_HEIGHT,
        words,
        baseline,
        ONE_DAY_BAR * 2,
        baseline,
        ONE_DAY_BAR / 2,
        baseline - height,
        ONE_DAY_BAR,
        height,
        ONE_DAY_BAR,
        max(baseline - height - 2, 7),
        f"{count:,}",
        ONE_DAY_BAR,
        SPARK_HEIGHT - 3,
        day.isoformat(),
        ONE_DAY_BAR * 2 + 12,
        SPARK_TOP + plot / 2 + 4,
        words,
    )
