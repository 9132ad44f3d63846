"""Alert rules as an admin defines them (README, "Alerts"), and a rule's saved view read back
into the list's filters the way the list reads its query string.

Every bad value is said in a sentence beside its field; a rule is stored only whole.
"""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.http import QueryDict

from calls.forms import CallFilterForm, describe_errors
from calls.models import AlertMetric, AlertRule, SavedView, ScorecardQuestion, ScorecardVersion
from calls.services.automatic_checks import describe
from calls.services.corrections import clean_label
from calls.truedy.filters import CallFilters

MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_COOLDOWN_MINUTES = 7 * 24 * 60
MAX_SILENCE_SECONDS = 3600
MAX_RECIPIENTS = 10
EVERY_CALL = ""
KEEP_VIEW = "keep"
UTC_ZONE = ZoneInfo("UTC")


class BadViewQuery(ValueError):
    """A saved view whose filters an alert cannot use; the message says why, in a sentence."""


def rule_filters(query: str) -> CallFilters:
    """The calls a rule's saved view selects, read as the list reads its query string (the
    view's own time zone, else UTC). Raises ``BadViewQuery``."""
    form = CallFilterForm(QueryDict(query), default_zone=UTC_ZONE)
    if not form.is_valid():
        raise BadViewQuery("Its filters no longer read: " + " ".join(describe_errors(form)))
    filters = form.list_filters()
    if filters.campaign:
        raise BadViewQuery(
            "It picks a campaign's calls, which only Truedy can list: an alert reads the "
            "archive only."
        )
    if filters.alert is not None:
        raise BadViewQuery("It picks the calls of an alert, which never change.")
    return filters


def automatic_questions() -> list[tuple[int, str]]:
    """(id, words) of every automatic question of a current scorecard version."""
    questions = (
        ScorecardQuestion.objects.filter(
            version__in=ScorecardVersion.objects.current(), auto_check__isnull=False
        )
        .select_related("version")
        .order_by("version__name", "position")
    )
    return [
        (question.pk, f"{question.version.name}: {question.text} ({describe(question.auto_check)})")
        for question in questions
        if question.auto_check
    ]


class AlertRuleForm(forms.ModelForm):
    """``AlertRuleForm(data, instance=rule, user=admin)``: the view comes from the admin's own
    saved views (or every call); an edited rule may keep the one it has."""

    view = forms.ChoiceField(label="Saved view", required=False)
    measure = forms.ChoiceField(
        label="Measure as",
        choices=[("count", "A number of calls"), ("share", "A share of the calls (%)")],
        initial="count",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose a number of calls or a share."},
    )
    webhook_url = forms.URLField(
        label="Webhook URL",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": "The webhook URL must be an http:// or https:// address."},
    )
    check_question = forms.TypedChoiceField(
        label="Automatic check", required=False, coerce=int, empty_value=None
    )

    field_order = [
        "name",
        "view",
        "metric",
        "outcome",
        "check_question",
        "silence_seconds",
        "measure",
        "direction",
        "threshold",
        "window_minutes",
        "cooldown_minutes",
        "webhook_url",
        "webhook_secret",
        "email_to",
        "active",
    ]

    class Meta:
        model = AlertRule
        fields = [
            "name",
            "metric",
            "outcome",
            "silence_seconds",
            "direction",
            "threshold",
            "window_minutes",
            "cooldown_minutes",
            "webhook_url",
            "webhook_secret",
            "email_to",
            "active",
        ]
        labels = {
            "name": "Name",
            "metric": "Metric",
            "outcome": "Outcome",
            "silence_seconds": "Silence longer than (seconds)",
            "direction": "Fire when the figure is",
            "threshold": "Threshold",
            "window_minutes": "Window (minutes)",
            "cooldown_minutes": "Cool-down (minutes)",
            "webhook_url": "Webhook URL",
            "webhook_secret": "Webhook signing secret",
            "email_to": "E-mail to",
            "active": "Checked on the schedule",
        }
        help_texts = {
            "outcome": "For “Calls with an outcome”: the outcome after corrections.",
            "window_minutes": "The calls created in the last N minutes are measured.",
            "cooldown_minutes": "After firing, the rule does not fire again for this long.",
            "webhook_secret": "Signs each delivery (HMAC-SHA256). Leave empty to keep the "
            "current one, or to use the dashboard's ALERT_WEBHOOK_SECRET.",
            "email_to": f"Comma-separated, at most {MAX_RECIPIENTS} addresses.",
        }
        widgets = {"webhook_secret": forms.PasswordInput(render_value=False)}
        error_messages = {
            "name": {"required": "Give the rule a name."},
            "metric": {"invalid_choice": "“%(value)s” is not a metric."},
            "direction": {"invalid_choice": "Choose above or below."},
            "threshold": {"invalid": "The threshold is a number, such as 10 or 2.5."},
            "window_minutes": {"invalid": "The window is a whole number of minutes."},
            "cooldown_minutes": {"invalid": "The cool-down is a whole number of minutes."},
            "silence_seconds": {"invalid": "The silence is a number of seconds, such as 5."},
            "webhook_url": {"invalid": "The webhook URL must be an http:// or https:// address."},
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.views = {
            str(view.pk): view for view in SavedView.objects.filter(user=user).order_by("name")
        }
        choices: list[tuple[str, str]] = []
        if self.instance.pk:
            shown = self.instance.view_name or "every call"
            choices.append((KEEP_VIEW, f"Keep: {shown}"))
        choices.append((EVERY_CALL, "Every call"))
        choices += [(key, view.name) for key, view in self.views.items()]
        view_field = cast(forms.ChoiceField, self.fields["view"])
        view_field.choices = choices
        view_field.error_messages["invalid_choice"] = "Choose one of your saved views."
        view_field.initial = KEEP_VIEW if self.instance.pk else EVERY_CALL
        question_field = cast(forms.TypedChoiceField, self.fields["check_question"])
        question_field.choices = [("", "—"), *automatic_questions()]
        question_field.error_messages["invalid_choice"] = (
            "Choose an automatic question of a current scorecard."
        )
        if self.instance.pk:
            self.fields["measure"].initial = "share" if self.instance.as_share else "count"
            self.fields["check_question"].initial = self.instance.check_question_id
        for name in ("window_minutes", "cooldown_minutes", "threshold"):
            self.fields[name].required = True
        self.fields["webhook_url"].validators = [URLValidator(schemes=["http", "https"])]

    # --- one field at a time ---

    def clean_name(self) -> str:
        return " ".join(str(self.cleaned_data["name"]).split())

    def clean_view(self) -> str:
        chosen = str(self.cleaned_data.get("view") or "")
        if chosen in (KEEP_VIEW, EVERY_CALL):
            return chosen
        try:
            rule_filters(self.views[chosen].query)
        except BadViewQuery as error:
            raise ValidationError(
                f"The view “{self.views[chosen].name}” cannot be watched. {error}"
            ) from None
        return chosen

    def clean_outcome(self) -> str:
        text = str(self.cleaned_data.get("outcome") or "").strip()
        if not text:
            return ""
        try:
            return clean_label(text)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    def clean_window_minutes(self) -> int:
        minutes = self.cleaned_data["window_minutes"]
        if not 1 <= minutes <= MAX_WINDOW_MINUTES:
            raise ValidationError(f"The window is 1 to {MAX_WINDOW_MINUTES:,} minutes (7 days).")
        return cast(int, minutes)

    def clean_cooldown_minutes(self) -> int:
        minutes = self.cleaned_data["cooldown_minutes"]
        if not 0 <= minutes <= MAX_COOLDOWN_MINUTES:
            raise ValidationError(f"The cool-down is 0 to {MAX_COOLDOWN_MINUTES:,} minutes.")
        return cast(int, minutes)

    def clean_email_to(self) -> str:
        text = str(self.cleaned_data.get("email_to") or "")
        addresses = [part.strip() for part in text.split(",") if part.strip()]
        if len(addresses) > MAX_RECIPIENTS:
            raise ValidationError(f"At most {MAX_RECIPIENTS} addresses.")
        check = EmailValidator()
        for address in addresses:
            try:
                check(address)
            except ValidationError:
                raise ValidationError(f"“{address[:60]}” is not an e-mail address.") from None
        return ", ".join(addresses)

    def clean_webhook_secret(self) -> str:
        secret = str(self.cleaned_data.get("webhook_secret") or "")
        if not secret and self.instance.pk:
            return self.instance.webhook_secret  # left empty: kept
        if secret and len(secret) < 16:
            raise ValidationError("A signing secret has at least 16 characters.")
        return secret

    # --- the rule as a whole ---

    def clean(self) -> dict[str, Any]:
        data = cast(dict[str, Any], super().clean())
        metric = data.get("metric")
        share = data.get("measure") == "share"
        if metric == AlertMetric.OUTCOME and not data.get("outcome"):
            self.add_error("outcome", "Give the outcome to watch.")
        if metric == AlertMetric.FAILED_CHECK and not data.get("check_question"):
            self.add_error("check_question", "Choose the automatic check to watch.")
        if metric == AlertMetric.LONG_SILENCE:
            seconds = data.get("silence_seconds")
            if seconds is None:
                self.add_error("silence_seconds", "Give the silence, in seconds.")
            elif not 0 < seconds <= MAX_SILENCE_SECONDS:
                self.add_error(
                    "silence_seconds",
                    f"The silence is more than 0 and at most {MAX_SILENCE_SECONDS} s.",
                )
        threshold = data.get("threshold")
        if threshold is not None and metric != AlertMetric.NO_CALLS:
            if threshold < 0:
                self.add_error("threshold", "The threshold cannot be negative.")
            elif share and metric != AlertMetric.CALLS and threshold > 100:
                self.add_error("threshold", "A share is at most 100 %.")
        url, secret = data.get("webhook_url"), data.get("webhook_secret")
        if url and not secret and not settings.ALERT_WEBHOOK_SECRET:
            self.add_error(
                "webhook_secret",
                "Give a signing secret: the receiver checks each delivery with it (the "
                "dashboard has no ALERT_WEBHOOK_SECRET to use instead).",
            )
        return data

    def save(self, commit: bool = True) -> AlertRule:
        rule: AlertRule = super().save(commit=False)
        data = self.cleaned_data
        metric = data["metric"]
        rule.as_share = data["measure"] == "share" and metric != AlertMetric.CALLS
        question_id = data.get("check_question") if metric == AlertMetric.FAILED_CHECK else None
        rule.check_question_id = question_id
        if metric != AlertMetric.OUTCOME:
            rule.outcome = ""
        if metric != AlertMetric.LONG_SILENCE:
            rule.silence_seconds = None
        if metric == AlertMetric.NO_CALLS:
            rule.threshold = 0
        chosen = data["view"]
        if chosen == EVERY_CALL:
            rule.saved_view, rule.view_name, rule.query = None, "", ""
        elif chosen != KEEP_VIEW:
            view = self.views[chosen]
            rule.saved_view, rule.view_name, rule.query = view, view.name, view.query
        if commit:
            rule.save()
        return rule
