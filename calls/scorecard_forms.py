"""Forms of scorecards: an admin's definition (the scorecard and its questions) and a reviewer's
filled scorecard. Each bad value gets a sentence saying what is wrong (status 400)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory
from django.http import QueryDict

from calls.models import QuestionKind, ScorecardQuestion, ScorecardVersion
from calls.services import automatic_checks
from calls.services.automatic_checks import BadCheck, CheckResult
from calls.services.scorecards import (
    MAX_QUESTIONS,
    MAX_SCALE,
    MAX_TEXT_ANSWER,
    MAX_WEIGHT,
    NOT_APPLICABLE,
    Option,
    QuestionSpec,
    ScorecardSpec,
)
from calls.truedy.records import CALL_ID_PATTERN

MAX_OPTIONS = 20
MAX_OPTION_LABEL = 100
QUESTIONS_PREFIX = "q"
SCOPES = (("all", "Every call"), ("agents", "Calls of these agents only"))
CHECK_CHOICES = [("", "None: a reviewer answers"), *automatic_checks.KINDS.items()]
WHO_CHOICES = [("agent", "The agent"), ("contact", "The contact"), ("anyone", "Anyone")]
SAID_CHOICES = [("said", "says it"), ("not_said", "never says it")]
_OPTION_LINE = re.compile(r"(?P<label>.*?)\s*=\s*(?P<credit>[0-9]{1,3})\s*%?\s*")

# --- the definition ----------------------------------------------------------------------------


class ScorecardForm(forms.Form):
    """The scorecard itself: its name, what it is for, and the calls it applies to.
    ``agents``: the agent choices (id, name) the page offers."""

    name = forms.CharField(
        label="Name",
        max_length=120,
        error_messages={
            "required": "Give the scorecard a name.",
            "max_length": "A name has at most %(limit_value)s characters.",
        },
    )
    description = forms.CharField(
        label="What it is for",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "A description has at most %(limit_value)s characters."},
    )
    scope = forms.ChoiceField(
        label="Applies to",
        choices=SCOPES,
        initial="all",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Say which calls the scorecard applies to.",
            "invalid_choice": "Apply the scorecard to every call or to some agents.",
        },
    )
    agent_ids = forms.MultipleChoiceField(
        label="Agents",
        required=False,
        error_messages={"invalid_choice": "“%(value)s” is not one of the agents."},
    )

    def __init__(self, *args: Any, agents: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["agent_ids"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = list(agents)

    def clean_agent_ids(self) -> list[str]:
        ids: list[str] = self.cleaned_data["agent_ids"]
        for agent_id in ids:
            if CALL_ID_PATTERN.fullmatch(agent_id) is None:
                raise ValidationError("“%(value)s” is not an agent id.", params={"value": agent_id})
        return ids

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("scope") == "agents" and not cleaned.get("agent_ids"):
            self.add_error(
                "agent_ids", "Choose at least one agent, or apply the scorecard to every call."
            )
        if cleaned.get("scope") == "all":
            cleaned["agent_ids"] = []
        return cleaned


def parse_options(text: str) -> tuple[Option, ...]:
    """A choice question's options, one a line: ``Resolved = 100`` (the credit, 0 to 100 %, is
    the share of the question's weight the option earns). ValidationError says what is wrong."""
    options: list[Option] = []
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    for number, line in enumerate((line for line in lines if line), start=1):
        match = _OPTION_LINE.fullmatch(line)
        if match is None or not match["label"]:
            raise ValidationError(
                f"Option {number} (“{line[:40]}”) needs a name and its credit in percent, "
                "like “Resolved = 100”."
            )
        label, credit = match["label"], int(match["credit"])
        if credit > 100:
            raise ValidationError(f"Option {number} (“{label[:40]}”): a credit is 0 to 100 %.")
        if len(label) > MAX_OPTION_LABEL:
            raise ValidationError(
                f"Option {number}: a name has at most {MAX_OPTION_LABEL} characters."
            )
        if any(option.label.casefold() == label.casefold() for option in options):
            raise ValidationError(f"Option “{label[:40]}” is there twice.")
        options.append(Option(label, credit))
    if len(options) < 2:
        raise ValidationError(
            "A choice question needs at least two options, one a line, each with its credit: "
            "“Resolved = 100”."
        )
    if len(options) > MAX_OPTIONS:
        raise ValidationError(f"A choice question has at most {MAX_OPTIONS} options.")
    return tuple(options)


def options_text(options: Sequence[Option]) -> str:
    return "\n".join(f"{option.label} = {option.credit}" for option in options)


def _optional_number(label: str) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=False,
        min_value=0,
        error_messages={
            "invalid": f"{label}: give a number.",
            "min_value": f"{label}: give a number from 0 up.",
        },
    )


class QuestionForm(forms.Form):
    text = forms.CharField(
        label="Question",
        max_length=300,
        error_messages={
            "required": "Write the question.",
            "max_length": "A question has at most %(limit_value)s characters.",
        },
    )
    kind = forms.ChoiceField(
        label="Answer",
        choices=QuestionKind.choices,
        initial=QuestionKind.YES_NO,
        error_messages={"invalid_choice": "“%(value)s” is not a kind of answer."},
    )
    weight = forms.IntegerField(
        label="Weight",
        initial=1,
        min_value=0,
        max_value=MAX_WEIGHT,
        error_messages={
            "required": f"Give a weight from 0 to {MAX_WEIGHT}.",
            "invalid": f"A weight is a whole number from 0 to {MAX_WEIGHT}.",
            "min_value": f"A weight is a whole number from 0 to {MAX_WEIGHT}.",
            "max_value": f"A weight is a whole number from 0 to {MAX_WEIGHT}.",
        },
    )
    mandatory = forms.BooleanField(label="Mandatory", required=False)
    allow_na = forms.BooleanField(label="Not applicable allowed", required=False)
    scale_max = forms.IntegerField(
        label="Scale up to",
        required=False,
        min_value=1,
        max_value=MAX_SCALE,
        error_messages={
            "invalid": f"The top of a scale is a whole number from 1 to {MAX_SCALE}.",
            "min_value": f"The top of a scale is a whole number from 1 to {MAX_SCALE}.",
            "max_value": f"The top of a scale is a whole number from 1 to {MAX_SCALE}.",
        },
    )
    options = forms.CharField(
        label="Options (one a line: name = credit %)",
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Options have at most %(limit_value)s characters."},
    )
    check = forms.ChoiceField(
        label="Automatic check",
        required=False,
        choices=CHECK_CHOICES,
        error_messages={"invalid_choice": "“%(value)s” is not an automatic check."},
    )
    check_who = forms.ChoiceField(
        label="Who",
        required=False,
        choices=WHO_CHOICES,
        initial="agent",
        error_messages={"invalid_choice": "Choose the agent, the contact or anyone."},
    )
    check_said = forms.ChoiceField(
        label="Says or never says",
        required=False,
        choices=SAID_CHOICES,
        initial="said",
        error_messages={"invalid_choice": "Choose “says it” or “never says it”."},
    )
    check_phrases = forms.CharField(
        label="Phrases (alternatives separated by |)",
        required=False,
        max_length=automatic_checks.MAX_PHRASES_CHARS,
        error_messages={"max_length": "Phrases have at most %(limit_value)s characters."},
    )
    check_min = _optional_number("Minimum")
    check_max = _optional_number("Maximum")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        kind = cleaned["kind"]
        if kind == QuestionKind.SCALE and cleaned.get("scale_max") is None:
            self.add_error("scale_max", f"A scale question needs its top value: 1 to {MAX_SCALE}.")
        if kind == QuestionKind.CHOICE:
            try:
                cleaned["parsed_options"] = parse_options(cleaned.get("options") or "")
            except ValidationError as error:
                self.add_error("options", error)
        if kind == QuestionKind.TEXT:
            cleaned["weight"] = 0  # a text answer is never scored
            if cleaned.get("check"):
                self.add_error("check", "A text question cannot be answered automatically.")
        if cleaned.get("check"):
            self._clean_check(cleaned)
        return cleaned

    def _clean_check(self, cleaned: dict[str, Any]) -> None:
        if cleaned["kind"] != QuestionKind.YES_NO:
            self.add_error(
                "check", "An automatic check answers yes or no: make this a yes/no question."
            )
            return
        try:
            cleaned["auto_check"] = automatic_checks.validate_check(check_spec(cleaned))
        except BadCheck as error:
            self.add_error("check", f"{automatic_checks.KINDS[cleaned['check']]}: {error}")

    def spec(self) -> QuestionSpec:
        """The question as the form defines it (a valid form)."""
        data = self.cleaned_data
        kind = data["kind"]
        return QuestionSpec(
            text=" ".join(data["text"].split()),
            kind=kind,
            weight=data["weight"],
            mandatory=data["mandatory"],
            allow_na=data["allow_na"],
            scale_max=data["scale_max"] if kind == QuestionKind.SCALE else None,
            options=data.get("parsed_options", ()) if kind == QuestionKind.CHOICE else (),
            auto_check=data.get("auto_check") if kind == QuestionKind.YES_NO else None,
        )


def check_spec(data: Mapping[str, Any]) -> dict[str, Any]:
    """A question form's check fields as ``automatic_checks.validate_check`` reads them."""
    kind = data.get("check")
    low, high = data.get("check_min"), data.get("check_max")
    if kind == "phrase":
        return {
            "kind": kind,
            "speaker": data.get("check_who") or "agent",
            "phrases": data.get("check_phrases") or "",
            "said": data.get("check_said") != "not_said",
        }
    if kind == "longest_silence":
        return {"kind": kind, "max_seconds": high}
    if kind == "talk_share":
        return {"kind": kind, "min_percent": low, "max_percent": high}
    if kind == "duration":
        return {"kind": kind, "min_seconds": low, "max_seconds": high}
    return {"kind": kind, "party": data.get("check_who")}


def check_initial(check: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored check as the question form's fields."""
    if not check:
        return {"check": ""}
    kind = check.get("kind")
    initial: dict[str, Any] = {"check": kind}
    if kind == "phrase":
        initial |= {
            "check_who": check.get("speaker"),
            "check_phrases": check.get("phrases"),
            "check_said": "said" if check.get("said", True) else "not_said",
        }
    elif kind == "ended_by":
        initial["check_who"] = check.get("party")
    elif kind == "longest_silence":
        initial["check_max"] = check.get("max_seconds")
    else:
        unit = "percent" if kind == "talk_share" else "seconds"
        initial |= {"check_min": check.get(f"min_{unit}"), "check_max": check.get(f"max_{unit}")}
    return initial


def question_initial(question: QuestionSpec) -> dict[str, Any]:
    return {
        "text": question.text,
        "kind": question.kind,
        "weight": question.weight,
        "mandatory": question.mandatory,
        "allow_na": question.allow_na,
        "scale_max": question.scale_max,
        "options": options_text(question.options),
    } | check_initial(question.auto_check)


# BaseFormSet is generic in the stubs only: Django's class takes no type argument at run time.
if TYPE_CHECKING:
    _FormSet = BaseFormSet[QuestionForm]
else:
    _FormSet = BaseFormSet


class BaseQuestionFormSet(_FormSet):
    default_error_messages = {
        **BaseFormSet.default_error_messages,
        "missing_management_form": "The list of questions arrived incomplete: reload the page "
        "and send it again.",
        "too_many_forms": f"A scorecard has at most {MAX_QUESTIONS} questions.",
        "too_few_forms": "A scorecard needs at least one question.",
    }

    def clean(self) -> None:
        if any(self.errors) or not self.management_form.is_valid():
            return
        questions = self.specs()
        if not questions:
            raise ValidationError("A scorecard needs at least one question.", code="empty")
        if not any(question.weight > 0 for question in questions):
            raise ValidationError(
                "At least one question must carry weight, or there is nothing to score.",
                code="no_weight",
            )
        texts = [question.text.casefold() for question in questions]
        if len(set(texts)) < len(texts):
            raise ValidationError("Two questions ask the same thing: say it once.", code="twice")

    def kept_forms(self) -> list[QuestionForm]:
        """The questions to save, in their order: rows marked for removal and blank new rows
        left out; by position (rows without one last), then as on the page."""
        kept = []
        for index, form in enumerate(self.forms):
            if index >= self.initial_form_count() and not form.has_changed():
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            order = form.cleaned_data.get("ORDER")
            kept.append((order is None, order or 0, index, form))
        return [form for *_, form in sorted(kept, key=lambda item: item[:3])]

    def specs(self) -> tuple[QuestionSpec, ...]:
        return tuple(form.spec() for form in self.kept_forms())


QuestionFormSet = formset_factory(
    QuestionForm,
    formset=BaseQuestionFormSet,
    extra=1,
    can_order=True,
    can_delete=True,
    max_num=MAX_QUESTIONS,
    validate_max=True,
    absolute_max=MAX_QUESTIONS + 10,
)


def question_formset(
    data: Mapping[str, Any] | None = None, *, questions: Sequence[QuestionSpec] = ()
) -> BaseQuestionFormSet:
    initial = [question_initial(question) for question in questions]
    return QuestionFormSet(data, initial=initial, prefix=QUESTIONS_PREFIX)  # type: ignore[return-value]


def with_another_question(data: QueryDict) -> QueryDict:
    """The posted editor with one more (blank) question row: the no-JavaScript "Add a
    question" button."""
    values = data.copy()
    total_key = f"{QUESTIONS_PREFIX}-TOTAL_FORMS"
    try:
        total = int(str(values.get(total_key, "")))
    except ValueError:
        return values  # the formset says the list arrived incomplete
    if 0 <= total < MAX_QUESTIONS:
        row = f"{QUESTIONS_PREFIX}-{total}"
        values[total_key] = str(total + 1)
        values[f"{row}-weight"] = "1"
        values[f"{row}-kind"] = QuestionKind.YES_NO.value
        values[f"{row}-check_who"] = "agent"
        values[f"{row}-check_said"] = "said"
    return values


def scorecard_spec(form: ScorecardForm, questions: BaseQuestionFormSet) -> ScorecardSpec:
    data = form.cleaned_data
    return ScorecardSpec(
        name=" ".join(data["name"].split()),
        description=data["description"].strip(),
        agent_ids=tuple(data["agent_ids"]),
        questions=questions.specs(),
    )


# --- a reviewer's filled scorecard ------------------------------------------------------------


def field_name(question: ScorecardQuestion) -> str:
    return f"q{question.pk}"


class _AnswerField(forms.ChoiceField):
    """A choice among a question's answers, saying plainly when "not applicable" is refused."""

    def __init__(self, *args: Any, question_text: str, allow_na: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question_text, self.allow_na = question_text, allow_na

    def validate(self, value: Any) -> None:
        if value == NOT_APPLICABLE and not self.allow_na:
            raise ValidationError(
                f"“{self.question_text}” cannot be marked not applicable: answer it.",
                code="not_applicable",
            )
        super().validate(value)


def _quoted(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


class ScoreForm(forms.Form):
    """One version's questions as fields ``q<id>``. ``automatic``: each automatic question's
    answer (pre-filled unless ``answers`` give one); ``answers``: a score to start from."""

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        version: ScorecardVersion,
        automatic: Mapping[int, CheckResult] | None = None,
        answers: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(data)
        self.version = version
        self.questions = list(version.questions.all())
        automatic = automatic or {}
        for question in self.questions:
            name = field_name(question)
            self.fields[name] = self._field(question)
            start = (answers or {}).get(str(question.pk))
            if start is None and question.pk in automatic:
                start = automatic[question.pk].answer
            if start is not None:
                self.initial[name] = str(start)

    def _field(self, question: ScorecardQuestion) -> forms.Field:
        text = _quoted(question.text)
        required = {"required": f"Answer “{text}”: it is mandatory."}
        if question.kind == QuestionKind.TEXT:
            return forms.CharField(
                label=question.text,
                required=question.mandatory,
                max_length=MAX_TEXT_ANSWER,
                widget=forms.Textarea,
                error_messages=required
                | {"max_length": f"An answer to “{text}” has at most %(limit_value)s characters."},
            )
        choices = answer_choices(question)
        listed = ", ".join(label for _, label in choices)
        return _AnswerField(
            label=question.text,
            required=question.mandatory,
            choices=[("", "—"), *choices],
            question_text=text,
            allow_na=question.allow_na,
            error_messages=required
            | {"invalid_choice": f"“%(value)s” is not an answer to “{text}”: choose {listed}."},
        )

    def answers(self) -> dict[str, Any]:
        """Question id (as text) → answer: "yes"/"no", a scale step or option index (int),
        text, "na", or None (an optional question left unanswered). A valid form only."""
        found: dict[str, Any] = {}
        for question in self.questions:
            value = self.cleaned_data.get(field_name(question))
            found[str(question.pk)] = _answer(question, value)
        return found


def answer_choices(question: ScorecardQuestion) -> list[tuple[str, str]]:
    """(value, label) of each answer a question takes, "not applicable" last if allowed."""
    if question.kind == QuestionKind.YES_NO:
        choices = [("yes", "Yes"), ("no", "No")]
    elif question.kind == QuestionKind.SCALE:
        choices = [(str(step), str(step)) for step in range((question.scale_max or 0) + 1)]
    else:
        choices = [
            (str(index), str(option["label"])) for index, option in enumerate(question.options)
        ]
    if question.allow_na:
        choices.append((NOT_APPLICABLE, "N/A"))
    return choices


def _answer(question: ScorecardQuestion, value: Any) -> Any:
    if value in (None, ""):
        return None
    if value == NOT_APPLICABLE or question.kind in (QuestionKind.YES_NO, QuestionKind.TEXT):
        return value
    return int(value)  # a scale step or an option's index, checked against the choices
