"""The mediation pages' forms: they check what was typed; the services decide."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.choices import IdType
from cases.idnumbers import validate_resident_id

from .mediation_pages import party_name
from .mediations import PartyTyped
from .models import (
    AfterDefault,
    AgreementForm,
    CourtAnswer,
    DisputeKind,
    MediationCase,
    MediationKind,
    MediationStatus,
    Performance,
    Side,
)

MAX_TERMS = 6
_DAY = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_BLANK = [("", "—")]


def _styled(form: forms.Form) -> None:
    for bound in form.fields.values():
        widget = bound.widget
        css = ("form-check-input" if isinstance(widget, forms.RadioSelect | forms.CheckboxInput
                                                | forms.CheckboxSelectMultiple)
               else "form-select" if isinstance(widget, forms.Select) else "form-control")
        widget.attrs.setdefault("class", css)


def _day(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=_DAY, error_messages={
        "required": _("Enter the day."), "invalid": _("Enter a day such as 2026-03-02.")},
        **kwargs)


def _text(label, *, rows: int = 3, required: bool = True, max_length: int | None = None,
          message=None, help_text="") -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput
    return forms.CharField(label=label, required=required, max_length=max_length, widget=widget,
                           help_text=help_text,
                           error_messages={"required": message or _("This is needed."),
                                           "max_length": _("Keep this to %(limit_value)d "
                                                           "characters.")})


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)


class _Step(_Form):
    """A step on one case, made from the version of the case the page was read at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, case: MediationCase, **kwargs):
        self.case = case
        kwargs.setdefault("initial", {}).setdefault("version", case.version)
        super().__init__(*args, **kwargs)


# --- Opening -------------------------------------------------------------------------------

class OpenForm(_Form):
    committee = forms.ChoiceField(label=_("Committee"), error_messages={
        "required": _("Choose the committee that mediates."),
        "invalid_choice": _("Choose a committee whose cases you work.")})
    kind = forms.ChoiceField(label=_("Kind of mediation"), choices=MediationKind.choices,
                             error_messages={"required": _("Choose the kind of mediation.")})
    dispute_kind = forms.ChoiceField(label=_("Kind of dispute"), choices=DisputeKind.choices,
                                     error_messages={"required": _("Choose the kind of "
                                                                   "dispute.")})
    summary = _text(_("The dispute"), rows=4, message=_("Describe the dispute."))
    mediators = forms.MultipleChoiceField(
        label=_("Mediators"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("One to three; they may be named later."),
        error_messages={"invalid_choice": _("Choose mediators of the committee.")})

    def __init__(self, *args, committees=(), mediators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].choices = _BLANK + [(str(c.pk), c.name) for c in committees]
        self.fields["mediators"].choices = [(str(u.pk), u.name or u.username) for u in mediators]


class PartyForm(_Form):
    """One party, typed: a person or an organisation (used with a prefix per side)."""

    name = _text(_("Name"), rows=0, required=False, max_length=50)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, required=False)
    id_number = _text(_("ID number"), rows=0, required=False, max_length=32)
    phone = _text(_("Phone"), rows=0, required=False, max_length=20)
    organisation = _text(_("Or an organisation"), rows=0, required=False, max_length=100,
                         help_text=_("Leave the person's fields empty for an organisation."))

    def __init__(self, *args, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.required = required

    def clean(self):
        data = super().clean()
        name, organisation = data.get("name", ""), data.get("organisation", "")
        if name and organisation:
            self.add_error("organisation", _("A party is a person or an organisation, not "
                                             "both."))
        elif self.required and not (name or organisation):
            self.add_error("name", _("Enter the party's name, or the organisation."))
        number = data.get("id_number", "")
        if number and (data.get("id_type") or IdType.RESIDENT_ID) == IdType.RESIDENT_ID:
            try:
                data["id_number"] = validate_resident_id(number)
            except ValidationError as problem:
                self.add_error("id_number", problem)
        return data

    def typed(self, side: str) -> PartyTyped | None:
        data = self.cleaned_data
        if not (data.get("name") or data.get("organisation")):
            return None
        return PartyTyped(side=side, name=data["name"], id_type=data["id_type"] or "resident_id",
                          id_number=data["id_number"], phone=data["phone"],
                          organisation=data["organisation"])


class SendForm(_Form):
    """A petition case sent to mediation: which committee, which kind."""

    committee = OpenForm.base_fields["committee"]
    kind = OpenForm.base_fields["kind"]
    dispute_kind = OpenForm.base_fields["dispute_kind"]

    def __init__(self, *args, committees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].choices = _BLANK + [(str(c.pk), c.name) for c in committees]


class ListFilterForm(_Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any"))] + MediationStatus.choices)
    committee = forms.TypedChoiceField(label=_("Committee"), required=False, coerce=int,
                                       empty_value=None)
    kind = forms.ChoiceField(label=_("Kind of mediation"), required=False,
                             choices=[("", _("Any"))] + MediationKind.choices)

    def __init__(self, *args, committees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].choices = [("", _("Any"))] + [(str(c.pk), c.name)
                                                               for c in committees]


# --- Steps on a case ----------------------------------------------------------------------

class MediatorsForm(_Step):
    mediators = forms.MultipleChoiceField(
        label=_("Mediators"), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose one to three mediators."),
                        "invalid_choice": _("Choose mediators of the committee.")})

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediators"].choices = [(str(u.pk), u.name or u.username) for u in people]
        if not self.is_bound:
            self.initial["mediators"] = [str(pk) for pk in
                                         self.case.mediators.values_list("pk", flat=True)]


class PartyAddForm(_Step, PartyForm):
    side = forms.ChoiceField(label=_("Side"), choices=Side.choices,
                             error_messages={"required": _("Choose applicant or respondent.")})
    field_order = ["side", "name", "id_type", "id_number", "phone", "organisation"]


class ConsentForm(_Step):
    party = forms.TypedChoiceField(label=_("Party"), coerce=int, error_messages={
        "required": _("Choose the party."), "invalid_choice": _("Choose a party of this case.")})
    consents = forms.ChoiceField(
        label=_("Does the party agree to mediation?"), widget=forms.RadioSelect,
        choices=(("yes", _("Yes, consents")), ("no", _("No, refuses"))),
        error_messages={"required": _("Say whether the party consents or refuses.")})
    note = _text(_("Note"), rows=2, required=False,
                 help_text=_("A refusal ends the mediation: say what the party said."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = _BLANK + [
            (str(p.pk), f"{p.get_side_display()}: {party_name(p)}")
            for p in self.case.parties.select_related("petitioner").order_by("side", "pk")]


class MeetingForm(_Step):
    held_on = _day(_("Held on"))
    place = _text(_("Place"), rows=0, max_length=200, message=_("Say where it was held."))
    attendees = _text(_("Who attended"), rows=2, message=_("Say who attended."))
    record = _text(_("Record (笔录)"), rows=8, message=_("Write the record of the meeting."),
                   help_text=_("Filed with the case; a filed record is not changed: correct it "
                               "with a new record."))
    corrects = forms.TypedChoiceField(label=_("Corrects the record of"), required=False,
                                      coerce=int, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["corrects"].choices = [("", _("None: a new meeting"))] + [
            (str(m.pk), m.held_on.isoformat()) for m in self.case.meetings.order_by("held_on")]


class AgreementDraftForm(_Step):
    form = forms.ChoiceField(label=_("Form of the agreement"), choices=AgreementForm.choices,
                             widget=forms.RadioSelect,
                             error_messages={"required": _("Say whether the agreement is "
                                                           "written or oral.")})
    facts = _text(_("The facts"), rows=4, message=_("State the main facts of the dispute."))
    issues = _text(_("The issues and responsibilities"), rows=4,
                   message=_("State the issues and who is responsible."))
    signed_on = _day(_("Signed on (or agreed on, if oral)"))
    parties_signed = forms.BooleanField(label=_("Signed (or fingerprinted) by the parties"),
                                        required=False)
    mediator_signed = forms.BooleanField(label=_("Signed by the mediator"), required=False)
    sealed = forms.BooleanField(label=_("Sealed by the committee"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parties = [(str(p.pk), party_name(p)) for p in
                   self.case.parties.select_related("petitioner").order_by("side", "pk")]
        for n in range(1, MAX_TERMS + 1):
            self.fields[f"term{n}_obligor"] = forms.TypedChoiceField(
                label=_("Party bound"), required=False, coerce=int, empty_value=None,
                choices=_BLANK + parties)
            self.fields[f"term{n}_content"] = _text(_("What is to be done"), rows=2,
                                                    required=False)
            self.fields[f"term{n}_manner"] = _text(_("Manner of performance"), rows=0,
                                                   required=False, max_length=200)
            self.fields[f"term{n}_due_on"] = _day(_("To be performed by"), required=False)
        _styled(self)

    def term_rows(self):
        """The bound fields of each term, for the template."""
        return [[self[f"term{n}_{name}"] for name in ("obligor", "content", "manner", "due_on")]
                for n in range(1, MAX_TERMS + 1)]

    def clean(self):
        data = super().clean()
        for n in range(1, MAX_TERMS + 1):
            values = [data.get(f"term{n}_{name}") for name in ("obligor", "content", "manner",
                                                              "due_on")]
            if any(values) and not all(values):
                self.add_error(f"term{n}_content", _("Term %(n)d: fill in the party bound, what "
                                                     "is to be done, how, and by when.")
                               % {"n": n})
        return data

    def terms(self) -> list[dict]:
        data = self.cleaned_data
        return [{name: data[f"term{n}_{name}"] for name in ("obligor", "content", "manner",
                                                            "due_on")}
                for n in range(1, MAX_TERMS + 1) if data.get(f"term{n}_content")]


class SignForm(_Step):
    signed_on = _day(_("Signed on"))
    parties_signed = AgreementDraftForm.base_fields["parties_signed"]
    mediator_signed = AgreementDraftForm.base_fields["mediator_signed"]
    sealed = AgreementDraftForm.base_fields["sealed"]


class ConcludeForm(_Step):
    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect,
                                error_messages={"required": _("Choose the outcome.")})
    note = _text(_("Why"), rows=3, required=False,
                 help_text=_("What the parties said; they are told they may go to arbitration, "
                             "an administrative body or a court."))
    follow_up_on = _day(_("Follow the terms in default up again on"), required=False)

    def __init__(self, *args, reopened: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(MediationStatus.NO_AGREEMENT, _("No agreement")),
                   (MediationStatus.WITHDRAWN, _("Withdrawn"))]
        if reopened:
            choices.insert(0, (MediationStatus.AGREEMENT, _("The parties stand by the agreement")))
        self.fields["outcome"].choices = choices


class ConfirmationForm(_Step):
    applied_on = _day(_("Applied on"))
    court = _text(_("Court"), rows=0, max_length=100,
                  message=_("Name the court the parties applied to."))


class CourtAnswerForm(_Step):
    answer = forms.ChoiceField(label=_("The court's answer"), choices=CourtAnswer.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("Choose confirmed or not "
                                                             "confirmed.")})
    answered_on = _day(_("Answered on"))


class TermCheckForm(_Step):
    checked_on = _day(_("Checked on"))
    result = forms.ChoiceField(label=_("Result"), choices=Performance.choices,
                               widget=forms.RadioSelect,
                               error_messages={"required": _("Choose performed, partly "
                                                             "performed or not performed.")})
    note = _text(_("Note"), rows=2, required=False)
    after_default = forms.ChoiceField(label=_("If not fully performed, then"), required=False,
                                      widget=forms.RadioSelect, choices=AfterDefault.choices)
