"""The forms of the case's steps: they check what was typed and convert it to the step
service's arguments; every rule stays in the service (cases/services/transitions/ etc.).

A service's refusal (ValidationError) comes back through ``add_service_error``: a code
the form knows goes to its field, anything else to the error summary at the top.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..choices import DecisionKind, DeliveryMethod, DiversionChannel, Outcome, ReviewOutcome
from ..models import Attachment, Case, Commitment, Decision, Extension, Instruction, Leadership
from ..models.handling import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES
from ..selectors.steps import (
    deciding_unit_choices,
    extensions_to_decide,
    leader_choices,
    open_commitments,
    open_instructions,
    responsible_choices,
    route_unit_choices,
)
from ..selectors.wording import day_text
from ..services.decisions import DecisionInput
from ..services.undertakings import instruction_due_proposed
from . import mark_invalid


def _date_widget() -> forms.DateInput:
    """A browser date picker: it takes and gives ISO days (2026-10-08) whatever the language,
    so a proposed day is shown in that form, not in the locale's 2026/10/08."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _text(model, name: str, required_message, rows: int = 4) -> forms.CharField:
    """A text area labelled as the model labels it; empty says what the service would say."""
    return forms.CharField(label=_label(model, name), widget=forms.Textarea(attrs={"rows": rows}),
                           error_messages={"required": required_message})


class StepForm(forms.Form):
    """A step's form; ``seen_status`` is the case's state when the form was shown."""

    seen_status = forms.CharField(widget=forms.HiddenInput, required=False)
    # A service ValidationError code → the field it is about.
    error_fields: dict[str, str] = {}

    def __init__(self, *args, case: Case, user=None, **kwargs) -> None:
        self.case, self.user = case, user
        super().__init__(*args, **kwargs)
        self.fields["seen_status"].initial = case.status
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple,
                                   forms.CheckboxInput)):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not widget.is_hidden:
                widget.attrs.setdefault("class", "form-control")

    def arguments(self) -> dict:
        """The service's keyword arguments, from what was typed."""
        return {name: value for name, value in self.cleaned_data.items() if name != "seen_status"}

    def message_params(self) -> dict:
        """More values the success message names, beyond the fields as typed."""
        return {}

    def add_service_error(self, error: ValidationError) -> None:
        """Show a service's refusal at its field when the code names one, else in the summary."""
        for item in error.error_list:
            field = self.error_fields.get(item.code or "")
            self.add_error(field if field in self.fields else None, item)

    def mark_errors(self) -> None:
        """Let assistive technology find each field's message (GOV.UK error pattern)."""
        mark_invalid(self)


class ConfirmForm(StepForm):
    """A step that needs nothing but the click."""


class AnswerForm(StepForm):
    answer = _text(Case, "spot_answer", _("Write down the answer given on the spot."), rows=6)


class RefuseForm(StepForm):
    reason = _text(Case, "refusal_reason", _("Give the reason the petition is not accepted."))
    channel = forms.ChoiceField(label=_label(Case, "diversion_channel"),
                                choices=DiversionChannel.choices, widget=forms.RadioSelect,
                                error_messages={"required": _("Choose the channel where this "
                                                              "matter belongs.")})
    error_fields = {"diversion_channel": "channel"}


class RouteForm(StepForm):
    lead_unit = forms.ModelChoiceField(label=_label(Case, "lead_unit"),
                                       queryset=Case.objects.none())
    co_units = forms.ModelMultipleChoiceField(label=_label(Case, "co_units"), required=False,
                                              queryset=Case.objects.none(),
                                              widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        units = route_unit_choices(case=case)
        self.fields["lead_unit"].queryset = units
        self.fields["co_units"].queryset = units


class ReturnForm(StepForm):
    reason = _text(Case, "return_reason",
                   _("Give detailed reasons why this unit is not competent."), rows=6)


class ReopenForm(StepForm):
    reason = forms.CharField(label=_("Reason for reopening"),
                             widget=forms.Textarea(attrs={"rows": 4}),
                             error_messages={"required": _("Give the reason the case is "
                                                           "reopened.")})


class DecisionForm(StepForm):
    """A written decision's five parts (R22 Art.32)."""

    request = _text(Decision, "request", _("State the petitioner's request."))
    facts = _text(Decision, "facts", _("State the facts found."), rows=6)
    reasons = _text(Decision, "reasons", _("State the reasons."), rows=6)
    outcome = forms.ChoiceField(label=_label(Decision, "outcome"), choices=Outcome.choices,
                                widget=forms.RadioSelect,
                                error_messages={"required": _("Choose support, explain or not "
                                                              "support.")})
    legal_basis = _text(Decision, "legal_basis", _("State the legal basis."), rows=3)
    error_fields = {"outcome": "outcome"}

    def decision(self, **more) -> DecisionInput:
        data = self.cleaned_data
        return DecisionInput(request=data["request"], facts=data["facts"],
                             reasons=data["reasons"], outcome=data["outcome"],
                             legal_basis=data["legal_basis"], **more)

    def arguments(self) -> dict:
        return {"decision": self.decision()}


class ReviewDecisionForm(DecisionForm):
    """A review decision: the five parts, the result and the body above that decided."""

    kind = DecisionKind.REVIEW
    review_outcome = forms.ChoiceField(
        label=_label(Decision, "review_outcome"), choices=ReviewOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the earlier decision is upheld, changed or "
                                      "revoked.")})
    deciding_unit = forms.ModelChoiceField(label=_label(Decision, "unit"), required=False,
                                           queryset=Case.objects.none())
    body_name = forms.CharField(label=_label(Decision, "body_name"), required=False,
                                max_length=100)
    error_fields = {"outcome": "outcome", "review_outcome": "review_outcome",
                    "deciding_body": "deciding_unit"}

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["deciding_unit"].queryset = deciding_unit_choices(case=case, kind=self.kind)

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"decision": self.decision(review_outcome=data["review_outcome"],
                                          deciding_unit=data["deciding_unit"],
                                          body_name=data["body_name"])}


class RereviewDecisionForm(ReviewDecisionForm):
    kind = DecisionKind.REREVIEW


class DeliverForm(StepForm):
    delivered_on = forms.DateField(label=_label(Decision, "delivered_on"),
                                   widget=_date_widget())
    method = forms.ChoiceField(label=_label(Decision, "delivery_method"),
                               choices=DeliveryMethod.choices, widget=forms.RadioSelect,
                               error_messages={"required": _("Choose how the decision was "
                                                             "delivered.")})
    error_fields = {"delivered_on": "delivered_on", "method": "method"}


class ExtensionForm(StepForm):
    days = forms.IntegerField(label=_label(Extension, "days"),
                              widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    reason = _text(Extension, "reason", _("Give the reason; it is told to the petitioner."))
    error_fields = {"days": "days", "reason": "reason"}


class LeaderForm(StepForm):
    leader = forms.ModelChoiceField(label=_label(Leadership, "leader"),
                                    queryset=Case.objects.none())
    measures = _text(Leadership, "measures", _("Set out the measures the leader will take."))
    deadline = forms.DateField(label=_label(Leadership, "deadline"),
                               widget=_date_widget())
    responsible = forms.ModelChoiceField(label=_label(Leadership, "responsible"),
                                         queryset=Case.objects.none())
    error_fields = {"leader_county": "leader", "leader_place": "leader", "measures": "measures",
                    "deadline": "deadline"}

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["leader"].queryset = leader_choices(case=case)
        self.fields["responsible"].queryset = responsible_choices(case=case)


def _day(label, required_message) -> forms.DateField:
    return forms.DateField(label=label, widget=_date_widget(),
                           error_messages={"required": required_message,
                                           "invalid": _("Enter a real day, e.g. 2026-10-08.")})


class OneOfForm(StepForm):
    """An action on one row of the case, chosen from those still open.

    The choices offered are the open rows (``offered``); any row of the case is taken in,
    so one kept, answered or decided by someone else meanwhile reaches the service, whose
    refusal says so, and what was typed stays on the form.
    """

    choice_field = ""

    def offered(self):
        raise NotImplementedError

    def describe(self, row) -> str:
        raise NotImplementedError

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields[self.choice_field]
        field.queryset = field.queryset.model.objects.filter(case=self.case)
        offered = list(self.offered())
        field.widget.choices = [(row.pk, self.describe(row)) for row in offered]
        if len(offered) == 1:
            field.initial = offered[0].pk


def _due_text(row) -> str:
    return _("due %(day)s") % {"day": day_text(row.due_on)}


class NoteForm(StepForm):
    text = forms.CharField(label=_("Progress note"), widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("What was done, found or agreed; it goes on the case's "
                                       "timeline and cannot be edited afterwards."),
                           error_messages={"required": _("A note cannot be empty.")})
    error_fields = {"required": "text"}


class AttachForm(StepForm):
    upload = forms.FileField(
        label=_label(Attachment, "file"),
        error_messages={"required": _("Choose the file to attach."),
                        "empty": _("The file is empty."),
                        "invalid": _("No file was received; choose it again.")})
    is_accusation_material = forms.BooleanField(
        label=_label(Attachment, "is_accusation_material"), required=False,
        help_text=_("Accusation material is never shown to the unit complained about."))
    error_fields = {"file_type": "upload", "file_empty": "upload", "file_size": "upload",
                    "file_content": "upload"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["upload"].help_text = _("Accepted: %(types)s; at most %(limit)d MB.") % {
            "types": ", ".join(ATTACHMENT_TYPES), "limit": MAX_ATTACHMENT_BYTES // 2**20}
        self.fields["upload"].widget.attrs["accept"] = ",".join(f".{t}" for t in ATTACHMENT_TYPES)

    def message_params(self) -> dict:
        return {"name": self.cleaned_data["upload"].name}


class CommitForm(StepForm):
    text = forms.CharField(label=_label(Commitment, "text"),
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("What the unit promised the petitioner, in the words "
                                       "told to them."),
                           error_messages={"required": _("Write down what was promised.")})
    due_on = _day(_("Kept by"), _("Give the day by which it will be kept."))
    error_fields = {"required": "text", "due_on": "due_on"}


class KeepForm(OneOfForm):
    commitment = forms.ModelChoiceField(
        label=_("Commitment"), queryset=Commitment.objects.none(), widget=forms.RadioSelect,
        error_messages={"required": _("Choose the commitment that was kept."),
                        "invalid_choice": _("Choose one of this case's commitments.")})
    note = forms.CharField(label=_label(Commitment, "kept_note"),
                           widget=forms.Textarea(attrs={"rows": 4}),
                           error_messages={"required": _("Say how the commitment was kept.")})
    choice_field = "commitment"
    error_fields = {"required": "note", "kept": "commitment"}

    def offered(self):
        return open_commitments(case=self.case)

    def describe(self, row) -> str:
        return f"{row.text} ({_due_text(row)})"

    def message_params(self) -> dict:
        return {"due_on": day_text(self.cleaned_data["commitment"].due_on)}


class InstructForm(StepForm):
    text = forms.CharField(label=_label(Instruction, "text"),
                           widget=forms.Textarea(attrs={"rows": 5}),
                           error_messages={"required": _("Write the instruction.")})
    due_on = _day(_("Answer by"), _("Give the day by which the unit answers."))
    error_fields = {"required": "text", "due_on": "due_on"}

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        proposed = instruction_due_proposed()
        self.fields["due_on"].initial = proposed
        self.fields["due_on"].help_text = _(
            "Proposed: 5 working days from today (%(day)s); choose another day if the matter "
            "needs it.") % {"day": day_text(proposed)}


class AnswerInstructionForm(OneOfForm):
    instruction = forms.ModelChoiceField(
        label=_("Instruction"), queryset=Instruction.objects.none(), widget=forms.RadioSelect,
        error_messages={"required": _("Choose the instruction you answer."),
                        "invalid_choice": _("Choose one of this case's instructions.")})
    answer = forms.CharField(label=_label(Instruction, "answer"),
                             widget=forms.Textarea(attrs={"rows": 5}),
                             help_text=_("What the unit did or will do on the instruction; the "
                                         "leader reads it on the case page."),
                             error_messages={"required": _("Write the answer to the "
                                                           "instruction.")})
    choice_field = "instruction"
    error_fields = {"required": "answer", "answered": "instruction"}

    def offered(self):
        return open_instructions(case=self.case)

    def describe(self, row) -> str:
        return f"{row.given_by.display_name}: {row.text} ({_due_text(row)})"


class DecideExtensionForm(OneOfForm):
    APPROVE, REFUSE = "approve", "refuse"

    extension = forms.ModelChoiceField(
        label=_("Extension request"), queryset=Extension.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the request you decide."),
                        "invalid_choice": _("Choose one of this case's extension requests.")})
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.RadioSelect,
        choices=[(APPROVE, _("Approve: the reply's due day moves")),
                 (REFUSE, _("Refuse: the reply stays due on its day"))],
        error_messages={"required": _("Choose to approve or to refuse.")})
    note = forms.CharField(label=_label(Extension, "decision_note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    choice_field = "extension"
    error_fields = {"decided": "extension", "period_over": "decision",
                    "not_handling": "decision"}

    def offered(self):
        return extensions_to_decide(case=self.case, user=self.user)

    def describe(self, row) -> str:
        return ngettext("%(days)d more day asked by %(name)s: %(reason)s",
                        "%(days)d more days asked by %(name)s: %(reason)s", row.days) % {
            "days": row.days, "name": row.requested_by.display_name, "reason": row.reason}

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"extension": data["extension"], "approve": data["decision"] == self.APPROVE,
                "note": data["note"]}

    def message_params(self) -> dict:
        return {"days": self.cleaned_data["extension"].days}
