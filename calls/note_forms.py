"""NoteForm: a note on a turn or a moment of a call, checked against the call when it is known."""

import unicodedata
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

from calls.services.notes import MAX_NOTE_CHARS
from calls.services.transcripts import MOMENT_HELP, parse_offset, timing_of, turn_at
from calls.truedy.records import Call

_ALLOWED_CONTROLS = {"\n", "\t"}


class NoteForm(forms.Form):
    turn = forms.IntegerField(
        required=False,
        min_value=1,
        error_messages={
            "invalid": "The turn is a number: 1 for the first turn.",
            "min_value": "The turn is a number: 1 for the first turn.",
        },
    )
    t = forms.CharField(
        required=False,
        max_length=20,
        strip=True,
        error_messages={"max_length": f"That is not a moment: {MOMENT_HELP}."},
    )
    # Its length is checked once line breaks are "\n": a browser sends "\r\n" for each.
    text = forms.CharField(
        strip=True, error_messages={"required": "Write the note: it cannot be empty."}
    )

    def __init__(self, *args: Any, call: Call | None = None, **kwargs: Any) -> None:
        """``call``: the call the note is for, when it could be read (its turns and length are
        then checked); None takes any turn and moment."""
        super().__init__(*args, **kwargs)
        self.call = call

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].replace("\r\n", "\n").replace("\r", "\n")
        if len(text) > MAX_NOTE_CHARS:
            raise ValidationError(
                f"A note has at most {MAX_NOTE_CHARS:,} characters (this one has {len(text):,}).",
                code="max_length",
            )
        if any(
            unicodedata.category(char) == "Cc" and char not in _ALLOWED_CONTROLS for char in text
        ):
            raise ValidationError("A note cannot hold control characters.", code="control")
        return text

    def clean_t(self) -> float | None:
        text = self.cleaned_data["t"]
        if not text:
            return None
        try:
            seconds = parse_offset(text)
        except ValueError as error:
            raise ValidationError(str(error), code="moment") from None
        length = self.call.duration_seconds if self.call else None
        if length is not None and seconds > length:
            raise ValidationError(
                f"This call lasts {length} s: {MOMENT_HELP} within it.", code="moment"
            )
        return seconds

    def clean(self) -> dict[str, Any]:
        cleaned = cast(dict[str, Any], super().clean())  # Form.clean returns cleaned_data
        turn, seconds = cleaned.get("turn"), cleaned.get("t")
        if self.errors:
            return cleaned
        if turn is None and seconds is None:
            raise ValidationError("Say which turn the note is on (or which moment).", code="where")
        call = self.call
        if call is not None and turn is not None:
            turns = len(call.transcript or ())
            if not turns:
                self.add_error("turn", "This call has no transcript: note a moment instead.")
            elif turn > turns:
                self.add_error(
                    "turn", f"This call has {turns:,} turns: pick one from 1 to {turns:,}."
                )
        if call is not None and turn is None and seconds is not None:
            cleaned["turn"] = turn_at(timing_of(call), seconds)
        return cleaned

    @property
    def seconds(self) -> float | None:
        return self.cleaned_data.get("t")


class ForYouPagesForm(forms.Form):
    """The *For you* page's two page numbers: its notes' and its handed calls'."""

    notes = forms.IntegerField(label="Notes page", required=False, min_value=1, max_value=1_000_000)
    handed = forms.IntegerField(
        label="Handed calls page", required=False, min_value=1, max_value=1_000_000
    )

    def page(self, name: str) -> int:
        return self.cleaned_data.get(name) or 1
