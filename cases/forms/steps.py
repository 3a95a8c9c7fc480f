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

from ..choices import DecisionKind, DeliveryMethod, DiversionChannel, Outcome, ReviewOutcome
from ..models import Case, Decision, Extension, Leadership
from ..selectors.steps import (
    deciding_unit_choices,
    leader_choices,
    responsible_choices,
    route_unit_choices,
)
from ..services.decisions import DecisionInput
from . import mark_invalid


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

    def __init__(self, *args, case: Case, **kwargs) -> None:
        self.case = case
        super().__init__(*args, **kwargs)
        self.fields["seen_status"].initial = case.status
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not widget.is_hidden:
                widget.attrs.setdefault("class", "form-control")

    def arguments(self) -> dict:
        """The service's keyword arguments, from what was typed."""
        return {name: value for name, value in self.cleaned_data.items() if name != "seen_status"}

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
                                   widget=forms.DateInput(attrs={"type": "date"}))
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
                               widget=forms.DateInput(attrs={"type": "date"}))
    responsible = forms.ModelChoiceField(label=_label(Leadership, "responsible"),
                                         queryset=Case.objects.none())
    error_fields = {"leader_county": "leader", "leader_place": "leader", "measures": "measures",
                    "deadline": "deadline"}

    def __init__(self, *args, case: Case, **kwargs) -> None:
        super().__init__(*args, case=case, **kwargs)
        self.fields["leader"].queryset = leader_choices(case=case)
        self.fields["responsible"].queryset = responsible_choices(case=case)
