"""The public page's forms and the staff follow-up forms: they check what was typed; the
services decide."""

from __future__ import annotations

import re

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cases.services.registration import QUERY_CODE_LENGTH

from .decisions import MAX_REASON
from .models import MAX_COMMENT, Commitments, DecisionOutcome, Method, Rating, Result, Risk
from .services import code_normalise, number_normalise

# A case number as registration gives it (341122-2026-000042), as cases/urls.py reads it.
NUMBER_PATTERN = re.compile(r"[0-9A-Z]+-[0-9]{4}-[0-9]{6}")
MAX_NUMBER = 32
MAX_CODE = 32


class QueryForm(forms.Form):
    number = forms.CharField(
        label=_("Case number"), max_length=MAX_NUMBER,
        help_text=_("As printed on your notice of acceptance, for example 341122-2026-000042."),
        error_messages={"required": _("Enter the case number."),
                        "max_length": _("The case number is at most %(limit_value)d "
                                        "characters.")})
    code = forms.CharField(
        label=_("Query code"), max_length=MAX_CODE,
        help_text=format_lazy(_("The {count} letters and digits printed under the case "
                                 "number."), count=QUERY_CODE_LENGTH),
        error_messages={"required": _("Enter the query code."),
                        "max_length": _("The query code is at most %(limit_value)d "
                                        "characters.")})

    def clean_number(self) -> str:
        number = number_normalise(self.cleaned_data["number"])
        if not NUMBER_PATTERN.fullmatch(number):
            raise forms.ValidationError(
                _("Enter the case number as printed, for example 341122-2026-000042."),
                code="number_format")
        return number

    def clean_code(self) -> str:
        code = code_normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter the query code."), code="required")
        return code


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How satisfied are you with the handling of your petition?"),
        choices=Rating.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose satisfied, basically satisfied or "
                                      "dissatisfied."),
                        "invalid_choice": _("Choose satisfied, basically satisfied or "
                                            "dissatisfied.")})
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional, but needed if you are dissatisfied: say what with."),
        error_messages={"max_length": _("Keep the comment to %(limit_value)d characters.")})


# --- The staff follow-ups (回头看) ----------------------------------------------------------

_YES_NO = (("yes", _("Yes, reached")), ("no", _("No, not reached")))


class _Versioned(forms.Form):
    # The version of the follow-up the page was read at (DECISIONS F8).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = ("form-check-input" if isinstance(widget, forms.RadioSelect | forms.CheckboxInput)
                   else "form-select" if isinstance(widget, forms.Select) else "form-control")
            widget.attrs.setdefault("class", css)


class AssignForm(_Versioned):
    assignee = forms.ChoiceField(
        label=_("Assign to"),
        help_text=_("Staff of the petition office or of the handling unit; not those who "
                    "handled the case or lead it."),
        error_messages={"required": _("Choose who makes the follow-up."),
                        "invalid_choice": _("Choose someone of the petition office or the "
                                            "handling unit who may take this follow-up.")})

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—")] + [(str(p.pk), p.name or p.username)
                                                        for p in people]


class AttemptForm(_Versioned):
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("Choose phone, visit or text "
                                                             "message.")})
    reached = forms.ChoiceField(label=_("Was the petitioner reached?"), choices=_YES_NO,
                                widget=forms.RadioSelect,
                                error_messages={"required": _("Say whether anyone was "
                                                              "reached.")})
    whom = forms.CharField(label=_("Whom you reached"), required=False, max_length=100,
                           help_text=_("The petitioner, or who else (a relative, a "
                                       "representative)."))
    note = forms.CharField(label=_("Note"), required=False, max_length=MAX_COMMENT,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": _("Keep the note to "
                                                           "%(limit_value)d characters.")})

    def clean(self):
        data = super().clean()
        if data.get("reached") == "yes" and not (data.get("whom") or "").strip():
            self.add_error("whom", _("Say whom you reached: the petitioner or who else."))
        return data


class OutcomeForm(_Versioned):
    result = forms.ChoiceField(label=_("Result"), choices=Result.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("Say whether the petitioner "
                                                             "was reached.")})
    rating = forms.ChoiceField(label=_("The petitioner's satisfaction"), required=False,
                               choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("What the petitioner said"), required=False,
                              max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Needed when the petitioner is dissatisfied."),
                              error_messages={"max_length": _("Keep the petitioner's words to "
                                                              "%(limit_value)d characters.")})
    commitments = forms.ChoiceField(label=_("Were the commitments kept?"), required=False,
                                    choices=Commitments.choices, widget=forms.RadioSelect)
    recurrence_risk = forms.ChoiceField(label=_("Risk the matter comes back"), required=False,
                                        choices=Risk.choices, widget=forms.RadioSelect)
    repeat_risk = forms.BooleanField(label=_("May petition again on the same matter (重复访)"),
                                     required=False)
    pestering_risk = forms.BooleanField(label=_("May pester or make trouble (缠访闹访)"),
                                        required=False)
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))


class DecisionForm(_Versioned):
    """The leader's decision (DECISIONS F11); outcomes the case does not allow now are
    offered greyed out with the reason (``refused``), and the service refuses them too."""

    outcome = forms.ChoiceField(label=_("Decision"), choices=DecisionOutcome.choices,
                                widget=forms.RadioSelect,
                                error_messages={"required": _("Choose reopen, direct to a "
                                                              "review, or keep the case "
                                                              "concluded."),
                                                "invalid_choice": _("Choose reopen, direct to "
                                                                    "a review, or keep the "
                                                                    "case concluded.")})
    reason = forms.CharField(label=_("Reason"), max_length=MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 4}),
                             help_text=_("What was found and why this decision: it is kept "
                                         "on the record and shown to the supervisors."),
                             error_messages={"required": _("Write the reason for the "
                                                           "decision."),
                                             "max_length": _("Keep the reason to "
                                                             "%(limit_value)d characters.")})

    def __init__(self, *args, refused: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.refused = refused or {}

