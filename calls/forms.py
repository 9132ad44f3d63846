"""CallFilterForm: the call list's query string, validated into ``CallFilters`` and a page.

The user filters "From … To …", both inclusive, in their own time zone; a date alone means the
whole day. ``GET /calls`` takes exclusive UTC instants ("created after/before this instant"), so
From becomes its first instant minus 1 µs and a To date becomes the start of the next day.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from calls.archive.search import search_words
from calls.labels import label
from calls.lib.phone_numbers import looks_like_phone_number, to_e164
from calls.lib.timezones import zone_or_none
from calls.models import AlertIssue, Verdict
from calls.services.corrections import clean_label
from calls.truedy.filters import DEFAULT_SORT, FILTER_NAMES, SORTS, CallFilters
from calls.truedy.records import CALL_ID_PATTERN, DIRECTIONS, STATUSES

PER_PAGE_CHOICES = (10, 25, 50, 100)
DEFAULT_PER_PAGE = 25
MIN_PER_PAGE, MAX_PER_PAGE = 10, 100
MAX_PAGE = 1_000_000
MIN_YEAR, MAX_YEAR = 1970, 2100

# `q` searches the archive only: Truedy cannot search, so it is never among the API's params.
SEARCH_NAME = "q"
# The dashboard's own filters of review work: only the archive can answer them, like `q`.
REVIEW_FILTER_NAMES = ("review", "suspicious", "notes", "auto_score", "only")
# A campaign (Truedy batch call) id: the calls its contacts got (calls.services.campaigns).
CAMPAIGN_NAME = "campaign"
# Filters only the archive answers, which a list Truedy answers needs to be current for
# (calls.truedy.filters, CURRENT_ONLY_NAMES; README, "Lists from the archive"); and `sort`.
ARCHIVE_FILTER_NAMES = (
    "outcome",
    "duration_min",
    "duration_max",
    "cost_min",
    "cost_max",
    "has_recording",
)
MAX_RANGE_VALUE = 10_000_000  # seconds or cents: far beyond any call
SORT_LABELS = {
    "created": "Created",
    "duration": "Duration",
    "cost": "Cost",
    "agent": "Agent",
    "outcome": "Outcome",
    "auto_score": "Automatic score",
}
# An alert issue's id: exactly the calls that fired it (README, "Alerts"); archive only.
ALERT_NAME = "alert"
QUERY_ORDER = (
    *FILTER_NAMES,
    CAMPAIGN_NAME,
    ALERT_NAME,
    SEARCH_NAME,
    *REVIEW_FILTER_NAMES,
    *ARCHIVE_FILTER_NAMES,
    "sort",
    "tz",
    "per_page",
    "page",
)
MAX_SEARCH_LENGTH = 100
MAX_SEARCH_WORDS = 8
# A search that is one token this long, with letters and digits, is a call id (Truedy's are
# UUIDs or "call_" and 24 characters); no word of a transcript looks like that.
MIN_CALL_ID_SEARCH = 16
_QUERY_DEFAULTS = {"per_page": str(DEFAULT_PER_PAGE), "page": "1", "sort": DEFAULT_SORT}

_ONE_MICROSECOND = timedelta(microseconds=1)
_MAX_SHOWN = 40  # characters of a rejected value quoted back in an error message

# ASCII digits only: str.isdigit() and \d would let "١٢" through.
_DIGITS_RE = re.compile(r"[0-9]{1,7}")
_MOMENT_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?)?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?)?"
)
FORMATS_HELP = "YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or ISO 8601 with Z or ±HH:MM"


def _shown(value: str) -> str:
    """A rejected value fit to quote back: short, with unprintable characters replaced."""
    text = "".join(char if char.isprintable() else "\ufffd" for char in value[:_MAX_SHOWN])
    return text + "…" if len(value) > _MAX_SHOWN else text


def _choices(values: Iterable[str], empty_label: str) -> list[tuple[str, str]]:
    return [("", empty_label), *((value, label(value)) for value in values)]


# --- dates and instants ------------------------------------------------------------------------


def _format_error(text: str) -> ValidationError:
    return ValidationError(
        "“%(value)s” is not a date or time: use %(formats)s.",
        code="invalid",
        params={"value": _shown(text), "formats": FORMATS_HELP},
    )


def _offset_zone(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    hours, minutes = int(text[1:3]), int(text[4:6])
    if minutes >= 60:
        raise ValueError("offset minutes out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)  # ValueError from 24:00 up


def _build_moment(match: re.Match[str]) -> date | datetime:
    day = date(int(match["year"]), int(match["month"]), int(match["day"]))
    if match["hour"] is None:
        return day
    micros = int((match["fraction"] or "").ljust(6, "0"))
    clock = time(int(match["hour"]), int(match["minute"]), int(match["second"] or 0), micros)
    wall = datetime.combine(day, clock)
    return wall if match["offset"] is None else wall.replace(tzinfo=_offset_zone(match["offset"]))


def parse_moment(text: str) -> date | datetime:
    """A date (a whole day), a naive wall time, or an aware instant when an offset is given."""
    match = _MOMENT_RE.fullmatch(text)
    if match is None:
        raise _format_error(text)
    try:
        moment = _build_moment(match)
    except ValueError:  # 2026-02-30, 25:00, +24:00
        raise _format_error(text) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValidationError(
            "“%(value)s” is out of range: use a year from %(min)s to %(max)s.",
            code="out_of_range",
            params={"value": _shown(text), "min": MIN_YEAR, "max": MAX_YEAR},
        )
    return moment


def _wall_instant(moment: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of ``moment``; a naive one is wall time in ``zone``."""
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    instant = moment.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the earlier when ambiguous
    if instant.astimezone(zone).replace(tzinfo=None) != moment:
        timespec = "minutes" if not (moment.second or moment.microsecond) else "auto"
        raise ValidationError(
            "%(wall)s does not exist in %(zone)s: the clocks went forward.",
            code="nonexistent",
            params={"wall": moment.isoformat(sep=" ", timespec=timespec), "zone": zone.key},
        )
    return instant


def _start_of_day(day: date, zone: ZoneInfo) -> datetime:
    # When midnight falls in a DST gap (America/Santiago), fold=0 reads it with the offset before
    # the jump, which lands exactly on the jump: the day's first instant. No zone in tzdata has a
    # gap that starts before midnight and ends after it, where this would overshoot.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def after_instant(moment: date | datetime, zone: ZoneInfo) -> datetime:
    """The exclusive ``created_after`` for an inclusive "From": its first instant minus 1 µs."""
    if isinstance(moment, datetime):
        return _wall_instant(moment, zone) - _ONE_MICROSECOND
    return _start_of_day(moment, zone) - _ONE_MICROSECOND


def before_instant(moment: date | datetime, zone: ZoneInfo) -> datetime:
    """The exclusive ``created_before`` for "To": a time as is, a date up to its end."""
    if isinstance(moment, datetime):
        return _wall_instant(moment, zone)
    return _start_of_day(moment + timedelta(days=1), zone)


# --- the search box ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SearchTerm:
    """The list's one search box, read: a call id, a phone number or words of a transcript.

    ``value`` is the call id, or the number in E.164 (None when it cannot be a number)."""

    kind: Literal["call_id", "phone", "words"]
    text: str
    value: str | None = None


def read_search(text: str, *, region: str) -> SearchTerm:
    """What someone typed into the search box means."""
    text = text.strip()
    if looks_like_phone_number(text):
        return SearchTerm("phone", text, to_e164(text, region))
    if _looks_like_call_id(text):
        return SearchTerm("call_id", text, text)
    return SearchTerm("words", text)


def _looks_like_call_id(text: str) -> bool:
    if CALL_ID_PATTERN.fullmatch(text) is None:
        return False
    if text.startswith("call_"):
        return True
    has_letter = any(char.isalpha() for char in text)
    has_digit = any(char.isdigit() for char in text)
    return len(text) >= MIN_CALL_ID_SEARCH and has_letter and has_digit


# --- fields ------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _validate_agent_id(value: str) -> None:
    if CALL_ID_PATTERN.fullmatch(value) is None:
        raise ValidationError(
            "“%(value)s” is not an agent id.", code="invalid", params={"value": _shown(value)}
        )


def _validate_campaign_id(value: str) -> None:
    if CALL_ID_PATTERN.fullmatch(value) is None:
        raise ValidationError(
            "“%(value)s” is not a campaign id.", code="invalid", params={"value": _shown(value)}
        )


class _ChoiceField(forms.ChoiceField):
    """Stripped; empty means None (no filter); the error quotes the (shortened) value."""

    def to_python(self, value: Any) -> str | None:
        return _text(value) or None

    def validate(self, value: str | None) -> None:
        if value is not None and not self.valid_value(value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": _shown(value)},
            )


# The automatic scorecard score (README, "Scorecards"): ``below-80``, ``from-80`` or ``50-80``,
# whole percents; a range is [from, below).
SCORE_RANGE_CHOICES = [
    ("", "Any automatic score"),
    ("below-50", "Below 50 %"),
    ("below-80", "Below 80 %"),
    ("from-80", "80 % and above"),
    ("from-100", "100 %"),
]
_SCORE_RANGE_RE = re.compile(
    r"below-(?P<below>[0-9]{1,3})|from-(?P<from>[0-9]{1,3})|(?P<low>[0-9]{1,3})-(?P<high>[0-9]{1,3})"
)


def parse_score_range(text: str) -> tuple[float | None, float | None]:
    """``below-80`` → (None, 80), ``from-80`` → (80, None), ``50-80`` → (50, 80): a score s
    matches when from ≤ s < below. ValueError for anything else."""
    match = _SCORE_RANGE_RE.fullmatch(text)
    if match is None:
        raise ValueError(text)
    numbers = {name: int(value) for name, value in match.groupdict().items() if value is not None}
    if any(number > 100 for number in numbers.values()):
        raise ValueError(text)
    if "below" in numbers:
        return None, float(numbers["below"])
    if "from" in numbers:
        return float(numbers["from"]), None
    if numbers["low"] >= numbers["high"]:
        raise ValueError(text)
    return float(numbers["low"]), float(numbers["high"])


def score_range_text(value: str) -> str:
    """A valid range in words: "below 80 %", "80 % or more", "50 % to under 80 %"."""
    at_least, below = parse_score_range(value)
    if at_least is None:
        return f"below {below:g} %"
    if below is None:
        return f"{at_least:g} % or more"
    return f"{at_least:g} % to under {below:g} %"


class _ScoreRangeField(_ChoiceField):
    """One of the presets, or any range ``parse_score_range`` reads (a link may carry one)."""

    def valid_value(self, value: Any) -> bool:
        try:
            parse_score_range(str(value))
        except ValueError:
            return False
        return True


class _MomentField(forms.Field):
    """Text parsed by ``parse_moment``; empty means None (no bound)."""

    def to_python(self, value: Any) -> date | datetime | None:
        text = _text(value)
        return parse_moment(text) if text else None


class _DefaultingField(forms.Field):
    """A field whose empty value means its ``initial``, and which renders as that value."""

    def bound_data(self, data: Any, initial: Any) -> Any:
        # A <select> then shows the value actually in effect, not its first option.
        return data if _text(data) else initial


class _ZoneField(_DefaultingField):
    """An IANA zone name; empty means None (the form's default zone)."""

    def to_python(self, value: Any) -> ZoneInfo | None:
        text = _text(value)
        if not text:
            return None
        zone = zone_or_none(text)
        if zone is None:
            raise ValidationError(
                "Unknown time zone “%(value)s”.", code="invalid", params={"value": _shown(text)}
            )
        return zone


class _WholeNumberField(_DefaultingField):
    """ASCII digits within ``minimum..maximum``; empty means ``default``."""

    def __init__(self, *, minimum: int, maximum: int, default: int, **kwargs: Any) -> None:
        super().__init__(required=False, initial=default, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def to_python(self, value: Any) -> int:
        text = _text(value)
        if not text:
            default: int = self.initial  # the ``default`` given to __init__
            return default
        if _DIGITS_RE.fullmatch(text) is None or not self.minimum <= int(text) <= self.maximum:
            raise ValidationError(
                "“%(value)s” is not a whole number from %(min)s to %(max)s.",
                code="invalid",
                params={
                    "value": _shown(text),
                    "min": f"{self.minimum:,}",
                    "max": f"{self.maximum:,}",
                },
            )
        return int(text)


class _AlertIssueField(forms.CharField):
    """An alert issue's id: a whole number naming an issue that exists (None: no filter)."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = _text(value)
        if not text:
            return None
        if _DIGITS_RE.fullmatch(text) is None:
            raise ValidationError(
                "“%(value)s” is not an alert number.",
                code="invalid",
                params={"value": _shown(text)},
            )
        if not AlertIssue.objects.filter(pk=int(text)).exists():
            raise ValidationError(
                "There is no alert %(value)s.", code="not_found", params={"value": text}
            )
        return int(text)


class _RangeEndField(forms.Field):
    """A whole number from 0 to MAX_RANGE_VALUE (seconds or cents); empty means None."""

    def to_python(self, value: Any) -> int | None:
        text = _text(value)
        if not text:
            return None
        if _DIGITS_RE.fullmatch(text) is None or int(text) > MAX_RANGE_VALUE:
            raise ValidationError(
                "“%(value)s” is not a whole number from 0 to %(max)s.",
                code="invalid",
                params={"value": _shown(text), "max": f"{MAX_RANGE_VALUE:,}"},
            )
        return int(text)


class _OutcomeField(forms.CharField):
    """An outcome label, in the one spelling the archive and corrections keep (``clean_label``:
    "Callback requested" and "callback_requested" are "callback-requested")."""

    def to_python(self, value: Any) -> str | None:
        text = _text(value)
        if not text:
            return None
        try:
            return clean_label(text)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None


def sort_text(sort: str) -> str:
    """A sort in words: ``-cost`` is "cost, highest first"."""
    column = sort.lstrip("-")
    name = SORT_LABELS[column].lower()
    if column in ("created",):
        return f"{name}, {'newest' if sort.startswith('-') else 'oldest'} first"
    if column in ("agent", "outcome"):
        return f"{name}, {'Z to A' if sort.startswith('-') else 'A to Z'}"
    return f"{name}, {'highest' if sort.startswith('-') else 'lowest'} first"


# --- the form ----------------------------------------------------------------------------------


class _CallFilterFields(forms.Form):
    # Declared apart from CallFilterForm because its `page` and `per_page` properties would
    # otherwise replace the fields of the same name before Django's metaclass collects them.

    agent_id = forms.CharField(
        label="Agent", required=False, empty_value=None, validators=[_validate_agent_id]
    )
    status = _ChoiceField(
        label="Status",
        required=False,
        choices=_choices(STATUSES, "Any status"),
        error_messages={"invalid_choice": "“%(value)s” is not a call status."},
    )
    direction = _ChoiceField(
        label="Direction",
        required=False,
        choices=_choices(DIRECTIONS, "Any direction"),
        error_messages={"invalid_choice": "“%(value)s” is not a call direction."},
    )
    campaign = forms.CharField(
        label="Campaign", required=False, empty_value=None, validators=[_validate_campaign_id]
    )
    alert = _AlertIssueField(label="Alert", required=False)
    q = forms.CharField(
        label="Search",
        required=False,
        empty_value=None,
        max_length=MAX_SEARCH_LENGTH,
        error_messages={
            "max_length": "Search for at most %(limit_value)d characters (this is %(show_value)d)."
        },
    )
    review = _ChoiceField(
        label="Review",
        required=False,
        choices=[
            ("", "Any review state"),
            ("unreviewed", "Unreviewed"),
            *((verdict.value, verdict.label) for verdict in Verdict),
        ],
        error_messages={"invalid_choice": "“%(value)s” is not a review state."},
    )
    suspicious = _ChoiceField(
        label="Suspicious labels",
        required=False,
        choices=[("", "Any label"), ("1", "Suspicious labels only")],
        error_messages={"invalid_choice": "“%(value)s”: use suspicious=1 or leave it out."},
    )
    notes = _ChoiceField(
        label="Notes",
        required=False,
        choices=[("", "Any"), ("open", "With open notes")],
        error_messages={"invalid_choice": "“%(value)s”: use notes=open or leave it out."},
    )
    auto_score = _ScoreRangeField(
        label="Automatic score",
        required=False,
        choices=SCORE_RANGE_CHOICES,
        error_messages={
            "invalid_choice": "“%(value)s” is not a score range: use below-80, from-80 or "
            "50-80 (whole percents from 0 to 100, the first below the second)."
        },
    )
    # The agents page links its figures here (calls.archive.search, ONLY).
    only = _ChoiceField(
        label="Only",
        required=False,
        choices=[
            ("", "Every call"),
            ("reviewed", "Reviewed calls"),
            ("corrected", "Calls with a corrected outcome"),
            ("scored", "Calls a reviewer scored"),
            ("dead-air", "Connected calls with dead air"),
        ],
        error_messages={
            "invalid_choice": "“%(value)s”: use only=reviewed, corrected, scored or dead-air."
        },
    )
    outcome = _OutcomeField(label="Outcome", required=False, empty_value=None)
    duration_min = _RangeEndField(label="Duration from (s)", required=False)
    duration_max = _RangeEndField(label="Duration to (s)", required=False)
    cost_min = _RangeEndField(label="Cost from (¢)", required=False)
    cost_max = _RangeEndField(label="Cost to (¢)", required=False)
    has_recording = _ChoiceField(
        label="Recording",
        required=False,
        choices=[("", "Any"), ("yes", "With a recording"), ("no", "Without a recording")],
        error_messages={"invalid_choice": "“%(value)s”: use has_recording=yes or no."},
    )
    sort = _ChoiceField(
        label="Sort",
        required=False,
        choices=[("", "Newest first")] + [(order, sort_text(order)) for order in SORTS],
        error_messages={
            "invalid_choice": "“%(value)s” is not a sort order: use one of "
            + ", ".join(SORTS)
            + "."
        },
    )
    created_after = _MomentField(label="From", required=False, help_text=FORMATS_HELP)
    created_before = _MomentField(label="To", required=False, help_text=FORMATS_HELP)
    tz = _ZoneField(label="Time zone", required=False)
    per_page = _WholeNumberField(
        label="Per page",
        minimum=MIN_PER_PAGE,
        maximum=MAX_PER_PAGE,
        default=DEFAULT_PER_PAGE,
        widget=forms.Select(choices=[(str(n), str(n)) for n in PER_PAGE_CHOICES]),
    )
    page = _WholeNumberField(label="Page", minimum=1, maximum=MAX_PAGE, default=1)


class CallFilterForm(_CallFilterFields):
    """``CallFilterForm(request.GET, default_zone=...)``; fields are named as the API's params."""

    def __init__(
        self, data: Mapping[str, Any] | None = None, *, default_zone: ZoneInfo, **kwargs: Any
    ) -> None:
        super().__init__(data, **kwargs)
        self.default_zone = default_zone
        self.fields["tz"].initial = default_zone.key
        typed = self._typed("auto_score") if self.is_bound else ""
        field = self.fields["auto_score"]
        assert isinstance(field, forms.ChoiceField)
        if typed and typed not in dict(SCORE_RANGE_CHOICES) and field.valid_value(typed):
            # A range a link carries that no preset names: the select shows it too.
            field.choices = [*SCORE_RANGE_CHOICES, (typed, score_range_text(typed).capitalize())]

    # --- validation ---

    def clean_created_after(self) -> datetime | None:
        moment = self.cleaned_data["created_after"]
        return None if moment is None else after_instant(moment, self.zone)

    def clean_created_before(self) -> datetime | None:
        moment = self.cleaned_data["created_before"]
        return None if moment is None else before_instant(moment, self.zone)

    def clean_q(self) -> SearchTerm | None:
        text: str | None = self.cleaned_data["q"]
        if text is None:
            return None
        term = read_search(text, region=settings.PHONE_REGION)
        if term.kind == "words" and len(search_words(text)) > MAX_SEARCH_WORDS:
            raise ValidationError(
                "Search for at most %(max)s words.",
                code="too_many_words",
                params={"max": MAX_SEARCH_WORDS},
            )
        if term.kind == "phone" and term.value is None:
            raise ValidationError(
                "“%(value)s” looks like a phone number but cannot be one: check its digits, "
                "and start a number from outside %(region)s with + and its country code.",
                code="not_a_number",
                params={"value": _shown(text), "region": settings.PHONE_REGION},
            )
        return term

    def clean_tz(self) -> ZoneInfo:
        return self.cleaned_data["tz"] or self.default_zone

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        after, before = cleaned.get("created_after"), cleaned.get("created_before")
        # Exclusive bounds: no instant fits between them unless they are more than 1 µs apart.
        if after is not None and before is not None and after >= before - _ONE_MICROSECOND:
            raise ValidationError("“From” must be earlier than “To”.", code="empty_range")
        for name, what in (("duration", "duration"), ("cost", "cost")):
            low, high = cleaned.get(f"{name}_min"), cleaned.get(f"{name}_max")
            if low is not None and high is not None and low > high:
                self.add_error(
                    f"{name}_max",
                    ValidationError(
                        "The %(what)s range ends (%(high)s) before it starts (%(low)s).",
                        code="empty_range",
                        params={"what": what, "low": low, "high": high},
                    ),
                )
        return cleaned

    # --- what views use ---

    def _typed(self, name: str) -> str:
        """The value as the user typed it (the last one if repeated, as Django reads it)."""
        return _text(self.data.get(name))

    @property
    def zone(self) -> ZoneInfo:
        """The zone in effect: a valid ``tz``, else the default (also on an invalid form)."""
        return zone_or_none(self._typed("tz")) or self.default_zone

    def _number(self, name: str) -> int:
        number: int = self.cleaned_data[name] if self.is_valid() else self.fields[name].initial
        return number

    # Django's form metaclass moves the fields out of the class body into ``base_fields``, so
    # these properties replace no attribute at run time; mypy only sees the class body.
    @property
    def page(self) -> int:  # type: ignore[override]
        """The 1-based page (1 on an invalid form)."""
        return self._number("page")

    @property
    def per_page(self) -> int:  # type: ignore[override]
        """Calls per page (the default on an invalid form)."""
        return self._number("per_page")

    @property
    def is_filtered(self) -> bool:
        return any(
            self._typed(name)
            for name in (
                *FILTER_NAMES,
                CAMPAIGN_NAME,
                ALERT_NAME,
                SEARCH_NAME,
                *REVIEW_FILTER_NAMES,
                *ARCHIVE_FILTER_NAMES,
            )
        )

    @property
    def search(self) -> SearchTerm | None:
        """What the search box holds, read (None without a search, or on an invalid form)."""
        term: SearchTerm | None = self.cleaned_data[SEARCH_NAME] if self.is_valid() else None
        return term

    def list_filters(self) -> CallFilters:
        """Which calls the list selects, its search included (paging aside). A call id in the
        search box selects nothing: the view opens that call instead."""
        if not self.is_valid():
            raise ValueError("list_filters() needs a valid form")
        data = self.cleaned_data
        term = self.search
        return CallFilters(
            **{name: data[name] for name in FILTER_NAMES},
            q=term.text if term and term.kind == "words" else None,
            contact=term.value if term and term.kind == "phone" else None,
            review=data["review"],
            suspicious=data["suspicious"] == "1",
            open_notes=data["notes"] == "open",
            auto_score=parse_score_range(data["auto_score"]) if data["auto_score"] else None,
            only=data["only"],
            campaign=data[CAMPAIGN_NAME],
            alert=data[ALERT_NAME],
            sort=data["sort"] if data["sort"] != DEFAULT_SORT else None,
            outcome=data["outcome"],
            duration_min=data["duration_min"],
            duration_max=data["duration_max"],
            cost_min=data["cost_min"],
            cost_max=data["cost_max"],
            has_recording={"yes": True, "no": False}.get(data["has_recording"] or ""),
        )

    def api_params(self) -> dict[str, Any]:
        """The keyword arguments of ``calls.upstream.reads.list_calls``: filters and paging."""
        if not self.is_valid():
            raise ValueError("api_params() needs a valid form")
        data = self.cleaned_data
        params = {name: data[name] for name in FILTER_NAMES}
        return params | {"limit": data["per_page"], "offset": (data["page"] - 1) * data["per_page"]}

    def query(self, **overrides: object) -> str:
        """The canonical query string (no "?"); ``tz`` always, so a link means the same instants
        for everyone. ``query(page=3)`` replaces a value, ``query(page=None)`` drops it."""
        unknown = sorted(overrides.keys() - set(QUERY_ORDER))
        if unknown:
            raise TypeError(f"query() got unknown parameters: {', '.join(unknown)}")
        values = {name: self._typed(name) for name in QUERY_ORDER}
        values["tz"] = self.zone.key or ""
        if self.is_valid():
            values["per_page"], values["page"] = str(self.per_page), str(self.page)
        values.update({name: _text(value) for name, value in overrides.items()})
        pairs = [
            (name, values[name])
            for name in QUERY_ORDER
            if values[name] and values[name] != _QUERY_DEFAULTS.get(name)
        ]
        return urlencode(pairs, safe="/:")


class CampaignPageForm(forms.Form):
    """The campaigns page's query string: which page of campaigns."""

    page = _WholeNumberField(label="Page", minimum=1, maximum=MAX_PAGE, default=1)

    @property
    def number(self) -> int:
        """The 1-based page (1 on an invalid form)."""
        number: int = self.cleaned_data["page"] if self.is_valid() else 1
        return number


def describe_errors(form: forms.Form) -> list[str]:
    """Every error as a sentence, prefixed by its field's label ("Status: …")."""
    messages: list[str] = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        prefix = f"{field.label}: " if field is not None and field.label else ""
        # An ErrorList yields its messages as text (the stubs also allow ValidationError).
        messages.extend(prefix + str(message) for message in errors)
    return messages
