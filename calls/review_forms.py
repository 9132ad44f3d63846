"""Forms of review work: a verdict, an outcome correction, a sample of a view, and the queue a
call page was opened from. Each bad value gets a sentence saying what is wrong (status 400)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from calls.models import ReviewSample, Verdict
from calls.services import corrections, roles, sampling
from calls.services.reviews import MAX_NOTE_CHARS

VERDICT_CHOICES = ", ".join(verdict.value for verdict in Verdict)
# Where a verdict posted without JavaScript returns: the call page, or the call's review page.
RETURN_TO = ("call", "review")


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=Verdict.choices,
        error_messages={
            "required": f"Choose a verdict: {VERDICT_CHOICES}.",
            "invalid_choice": f"“%(value)s” is not a verdict: choose {VERDICT_CHOICES}.",
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_NOTE_CHARS,
        widget=forms.Textarea,
        error_messages={
            "max_length": "A note has at most %(limit_value)s characters (this one has "
            "%(show_value)s)."
        },
    )
    assigned_to: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Hand a follow-up to",
        queryset=None,
        required=False,
        to_field_name="username",
        error_messages={
            "invalid_choice": "A follow-up can be handed only to a teammate who reviews calls."
        },
    )
    return_to = forms.ChoiceField(choices=[(place, place) for place in RETURN_TO], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = roles.reviewers()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("assigned_to") and cleaned.get("verdict") != Verdict.FOLLOW_UP:
            self.add_error("assigned_to", "Only a follow-up can be handed to a teammate.")
        return cleaned


class CorrectionForm(forms.Form):
    """``current``: the call's effective outcome now (setting it again changes nothing)."""

    outcome = forms.CharField(
        label="Outcome",
        strip=False,  # clean_label reads the spacing itself
        error_messages={"required": "Give an outcome."},
    )
    reason = forms.CharField(
        label="Reason",
        max_length=corrections.MAX_REASON_CHARS,
        widget=forms.Textarea,
        error_messages={
            "required": "Say why the outcome is wrong: a reason is required.",
            "max_length": "A reason has at most %(limit_value)s characters (this one has "
            "%(show_value)s).",
        },
    )
    return_to = forms.ChoiceField(choices=[(place, place) for place in RETURN_TO], required=False)

    def __init__(self, *args: Any, current: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current

    def clean_outcome(self) -> str:
        try:
            outcome = corrections.clean_label(self.cleaned_data["outcome"])
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None
        if outcome == self.current:
            raise ValidationError("That is already this call's outcome.", code="unchanged")
        return outcome


class SampleForm(forms.Form):
    """A sample of the list view whose canonical query is ``query``."""

    query = forms.CharField(required=False, max_length=1000)
    percent = forms.IntegerField(
        label="Percent of these calls",
        required=False,
        min_value=1,
        max_value=sampling.MAX_PERCENT,
        error_messages={
            "invalid": "A percent is a whole number from 1 to 100.",
            "min_value": "A percent is a whole number from 1 to 100.",
            "max_value": "A percent is a whole number from 1 to 100.",
        },
    )
    count = forms.IntegerField(
        label="Number of calls",
        required=False,
        min_value=1,
        max_value=sampling.MAX_SIZE,
        error_messages={
            "invalid": f"A number of calls is a whole number from 1 to {sampling.MAX_SIZE:,}.",
            "min_value": f"A number of calls is a whole number from 1 to {sampling.MAX_SIZE:,}.",
            "max_value": f"A number of calls is a whole number from 1 to {sampling.MAX_SIZE:,}.",
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        if (cleaned.get("percent") is None) == (cleaned.get("count") is None):
            raise ValidationError(
                "Give a percent (1 to 100) or a number of calls "
                f"(1 to {sampling.MAX_SIZE:,}), not both.",
                code="one_of",
            )
        return cleaned


class QueueForm(forms.Form):
    """The queue a call page or a queue step carries: ``queue=1[&sample=<id>][&part=k/m]``."""

    queue = forms.BooleanField(required=False)
    sample = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={"invalid": "“sample” is the number of a sample."},
    )
    part = forms.CharField(required=False, max_length=10)

    def clean_sample(self) -> ReviewSample | None:
        number = self.cleaned_data["sample"]
        if number is None:
            return None
        sample = ReviewSample.objects.filter(pk=number).first()
        if sample is None:
            raise ValidationError(f"There is no sample {number}.", code="not_found")
        return sample

    def clean_part(self) -> sampling.Part | None:
        text = self.cleaned_data["part"]
        if not text:
            return None
        try:
            return sampling.parse_part(text)
        except ValueError as error:
            raise ValidationError(str(error), code="invalid") from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("part") and not cleaned.get("sample"):
            self.add_error("part", "Only a sample can be split into parts.")
        return cleaned

    @property
    def in_queue(self) -> bool:
        """Whether the URL says its page is a step of a queue."""
        return self.is_valid() and bool(self.cleaned_data["queue"] or self.cleaned_data["sample"])

    @property
    def drawn_sample(self) -> ReviewSample | None:
        """The sample the queue is of (None for a whole list view, or on an invalid form)."""
        sample: ReviewSample | None = self.cleaned_data["sample"] if self.is_valid() else None
        return sample

    @property
    def sample_part(self) -> sampling.Part | None:
        part: sampling.Part | None = self.cleaned_data["part"] if self.is_valid() else None
        return part

    def queue_query(self) -> str:
        """The queue's part of a URL: ``queue=1[&sample=3][&part=1/2]``."""
        pairs = ["queue=1"]
        if self.drawn_sample is not None:
            pairs.append(f"sample={self.drawn_sample.pk}")
        if self.sample_part is not None:
            pairs.append(f"part={self.sample_part}")
        return "&".join(pairs)
