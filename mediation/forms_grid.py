"""The grid's forms: the grid worker's report (with its parties and photos), the centre's
triage, and the county clerk's registration of a 包案 report. They check and convert what was
typed; the rules are ``mediation/grid_rules.py``'s, whose problems the report form shows at once."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import OrgUnit, User
from cases.choices import Purpose
from cases.forms import mark_invalid
from cases.forms.widgets import quicken
from cases.idnumbers import validate_resident_id
from cases.models import Category, Leadership

from .grid_rules import (
    MAX_PHOTOS,
    PartyInput,
    Registration,
    ReportInput,
    RiskFlags,
    Triage,
    outcome_problems,
    photo_problems,
    risk_problems,
)
from .models import DisputeKind, GridReport, ReportParty, Side

_datetime = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_rows = {"rows": 3}
SETTLED, CENTRE = "settled", "centre"


def _label(model, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)


class _Styled:
    """Bootstrap classes on every widget; hints linked to their field; errors flagged."""

    def style(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")
            if field.help_text:
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}-hint"
            quicken(field)

    def full_clean(self) -> None:
        super().full_clean()
        if self.is_bound:
            mark_invalid(self)


class PhotosInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one input (the camera's, or the gallery's)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("widget", PhotosInput(attrs={
            "accept": "image/jpeg,image/png,image/webp", "multiple": True,
            "data-grid-photos": ""}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(PhotosField, self).clean(upload, initial) for upload in files]


class ReportForm(_Styled, forms.Form):
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    grid = forms.ModelChoiceField(label=_label(GridReport, "grid"), queryset=OrgUnit.objects.none(),
                                  empty_label=None)
    found_at = forms.DateTimeField(
        label=_label(GridReport, "found_at"), widget=_datetime,
        error_messages={"required": _("Say when the dispute was found."),
                        "invalid": _("Enter a day and time, e.g. 2026-10-08 09:30.")})
    kind = forms.ChoiceField(label=_label(GridReport, "kind"),
                             choices=[("", _("Choose the kind")), *DisputeKind.choices],
                             error_messages={"required": _("Choose the kind of dispute.")})
    place = forms.CharField(label=_label(GridReport, "place"), max_length=200,
                            help_text=_("Where in the grid: the house, field, shop or road."),
                            error_messages={"required": _("Say where in the grid the dispute "
                                                          "is.")})
    summary = forms.CharField(label=_label(GridReport, "summary"),
                              widget=forms.Textarea(attrs={"rows": 4}),
                              error_messages={"required": _("Say what happened.")})
    threat = forms.BooleanField(label=_label(GridReport, "threat"), required=False,
                                widget=forms.CheckboxInput(attrs={"data-grid-reveal": "threat"}))
    threat_words = forms.CharField(label=_label(GridReport, "threat_words"), required=False,
                                   widget=forms.Textarea(attrs=_rows),
                                   help_text=_("Needed with a threat: what was said, in the "
                                               "speaker's words."))
    group_involved = forms.BooleanField(label=_label(GridReport, "group_involved"),
                                        required=False,
                                        widget=forms.CheckboxInput(
                                            attrs={"data-grid-reveal": "group"}))
    group_size = forms.IntegerField(label=_label(GridReport, "group_size"), required=False,
                                    min_value=2, max_value=100000,
                                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    level_skip_risk = forms.BooleanField(label=_label(GridReport, "level_skip_risk"),
                                         required=False)
    beijing_risk = forms.BooleanField(label=_label(GridReport, "beijing_risk"), required=False)
    violence_risk = forms.BooleanField(label=_label(GridReport, "violence_risk"), required=False)
    outcome = forms.ChoiceField(
        label=_("What happens now"), widget=forms.RadioSelect,
        choices=[(SETTLED, _("Settled on the spot")), (CENTRE, _("Pass to the township centre"))],
        error_messages={"required": _("Choose whether it was settled on the spot or passes to "
                                      "the township centre.")})
    settled_how = forms.CharField(label=_label(GridReport, "settled_how"), required=False,
                                  widget=forms.Textarea(attrs=_rows),
                                  help_text=_("Needed when settled on the spot: who agreed to "
                                              "what."))
    photos = PhotosField(label=_("Photos of the scene"), required=False,
                         help_text=_("Take photos or choose them: at most %(count)d, JPG, PNG "
                                     "or WebP, 8 MB each.") % {"count": MAX_PHOTOS})

    RISKS = ("threat", "group_involved", "level_skip_risk", "beijing_risk", "violence_risk")

    def __init__(self, *args, grids, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["grid"]
        field.queryset = grids
        found = list(grids)
        villages = dict(OrgUnit.objects.filter(
            path__in=[grid.path[:-OrgUnit.steplen] for grid in found]).values_list("path", "name"))
        field.label_from_instance = (
            lambda grid: f"{villages.get(grid.path[:-OrgUnit.steplen], '')} · {grid.name}")
        self.single_grid = field.label_from_instance(found[0]) if len(found) == 1 else ""
        if len(found) == 1:
            field.initial = found[0].pk
            field.widget = forms.HiddenInput()
        self.style()

    def clean(self):
        data = super().clean()
        for problem in [*risk_problems(self.risks()),
                        *outcome_problems(settled=data.get("outcome") == SETTLED,
                                          settled_how=data.get("settled_how", "")),
                        *photo_problems(tuple(data.get("photos") or ()))]:
            self.add_error(FIELD_OF_CODE[problem.code], problem)
        return data

    def risks(self) -> RiskFlags:
        data = self.cleaned_data
        return RiskFlags(threat=data.get("threat", False),
                         threat_words=data.get("threat_words", ""),
                         group_involved=data.get("group_involved", False),
                         group_size=data.get("group_size"),
                         level_skip_risk=data.get("level_skip_risk", False),
                         beijing_risk=data.get("beijing_risk", False),
                         violence_risk=data.get("violence_risk", False))

    def to_input(self, parties: tuple[PartyInput, ...]) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            client_key=data["client_key"], grid=data["grid"], found_at=data["found_at"],
            kind=data["kind"], place=data["place"], summary=data["summary"], parties=parties,
            settled=data["outcome"] == SETTLED, settled_how=data["settled_how"],
            risks=self.risks(), photos=tuple(data["photos"]))


# Where each of the report rules' problems is shown on the form.
FIELD_OF_CODE = {
    "threat_words": "threat_words", "group_size": "group_size", "settled_how": "settled_how",
    "photo_count": "photos", "photo_size": "photos", "photo_type": "photos", "place": "place",
    "summary": "summary", "kind": "kind", "found_at": "found_at", "township": "grid",
}


class PartyForm(_Styled, forms.Form):
    side = forms.ChoiceField(label=_label(ReportParty, "side"),
                             choices=Side.choices, initial=Side.APPLICANT)
    name = forms.CharField(label=_("Person's name"), max_length=50, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "off"}))
    id_number = forms.CharField(
        label=_("ID number"), max_length=32, required=False,
        help_text=_("If known: 18 characters."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    organisation = forms.CharField(label=_("Or an organisation"), max_length=100,
                                   required=False,
                                   help_text=_("A company, village committee or other body, "
                                               "instead of a person."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.style()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["id_number"]:
            try:
                data["id_number"] = validate_resident_id(data["id_number"])
            except ValidationError as error:
                self.add_error("id_number", error)
                return data
        if data["organisation"].strip() and (data["name"].strip() or data["id_number"]
                                             or data["phone"].strip()):
            self.add_error("organisation", _("A party is a person or an organisation: clear "
                                             "one of the two."))
        elif (data["id_number"] or data["phone"].strip()) and not data["name"].strip():
            self.add_error("name", _("Enter the person's name with their ID number or phone."))
        return data

    def typed(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any((data.get(name) or "").strip() for name in
                   ("name", "id_number", "phone", "organisation"))

    def to_input(self) -> PartyInput:
        data = self.cleaned_data
        return PartyInput(side=data["side"], name=data["name"].strip(),
                          id_number=data["id_number"], phone=data["phone"].strip(),
                          organisation=data["organisation"].strip())


class _Parties(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.entered():
            raise ValidationError(_("Enter at least one party: a person's name or an "
                                    "organisation."), code="parties")

    def entered(self) -> list[tuple[int, PartyForm]]:
        """The rows something was typed in, with their position on the form."""
        return [(index, form) for index, form in enumerate(self.forms) if form.typed()]


PartyFormSet = forms.formset_factory(PartyForm, formset=_Parties, extra=1, max_num=10,
                                     absolute_max=20)
PARTIES = "parties"
FIRST_PARTIES = [{"side": Side.APPLICANT}, {"side": Side.RESPONDENT}]


class TriageForm(_Styled, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    to = forms.ChoiceField(label=_("Send the report to"), choices=Triage.choices,
                           widget=forms.RadioSelect,
                           error_messages={"required": _("Choose where the report goes.")})
    note = forms.CharField(label=_label(GridReport, "triage_note"), required=False,
                           widget=forms.Textarea(attrs=_rows),
                           help_text=_("Why it goes there; what the committee or the county "
                                       "should know."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.style()


def leaders_over(unit: OrgUnit):
    """The active users holding the leader role in ``unit`` or a unit above it."""
    step = OrgUnit.steplen
    paths = [unit.path[:end] for end in range(step, len(unit.path) + 1, step)]
    return (User.objects.filter(is_active=True, role_assignments__role=Role.LEADER,
                                role_assignments__unit__path__in=paths)
            .distinct().order_by("name", "username"))


def county_staff(unit: OrgUnit):
    """The active users holding any role in ``unit``'s county."""
    return (User.objects.filter(is_active=True,
                                role_assignments__unit__path__startswith=unit.county_path)
            .distinct().order_by("name", "username"))


class RegisterForm(_Styled, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    office = forms.ModelChoiceField(label=_("Registering office"), queryset=OrgUnit.objects.none(),
                                    empty_label=None)
    category = forms.ModelChoiceField(
        label=_("Category"), empty_label=_("Choose a category"),
        queryset=Category.objects.filter(is_active=True).order_by("path"),
        error_messages={"required": _("Choose the category of the matter.")})
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices,
                                initial=Purpose.REMEDY)
    demands = forms.CharField(label=_("Demands"), widget=forms.Textarea(attrs=_rows),
                              help_text=_("What the people concerned ask for, as the report "
                                          "and the centre tell it."),
                              error_messages={"required": _("Write down what the people "
                                                            "concerned ask for.")})
    leader = forms.ModelChoiceField(label=_label(Leadership, "leader"), queryset=User.objects.none(),
                                    empty_label=_("Choose the responsible leader"),
                                    error_messages={"required": _("Choose the responsible "
                                                                  "leader.")})
    measures = forms.CharField(label=_label(Leadership, "measures"),
                               widget=forms.Textarea(attrs=_rows),
                               error_messages={"required": _("Set out the measures the leader "
                                                             "will take.")})
    deadline = forms.DateField(label=_label(Leadership, "deadline"),
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                               error_messages={"required": _("Set the leader's deadline."),
                                               "invalid": _("Enter a real day, e.g. "
                                                            "2026-10-08.")})
    responsible = forms.ModelChoiceField(label=_label(Leadership, "responsible"),
                                         queryset=User.objects.none(), required=False,
                                         empty_label=_("The leader"))

    def __init__(self, *args, report: GridReport, offices: list[OrgUnit], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        county = report.township.county_path
        mine = [office for office in offices if office.path.startswith(county)]
        self.fields["office"].queryset = OrgUnit.objects.filter(pk__in=[o.pk for o in mine])
        if len(mine) == 1:
            self.fields["office"].initial = mine[0].pk
            self.fields["office"].widget = forms.HiddenInput()
        self.fields["category"].label_from_instance = (
            lambda node: "\u3000" * (node.depth - 1) + node.name)
        village = OrgUnit.objects.get(path=report.grid.path[:-OrgUnit.steplen])
        for name, people in (("leader", leaders_over(village)),
                             ("responsible", county_staff(report.township))):
            self.fields[name].queryset = people
            self.fields[name].label_from_instance = lambda user: user.display_name
        self.fields["deadline"].widget.attrs["min"] = timezone.localdate().isoformat()
        self.style()

    def to_registration(self) -> Registration:
        data = self.cleaned_data
        return Registration(office=data["office"], category=data["category"],
                            purpose=data["purpose"], demands=data["demands"],
                            leader=data["leader"], measures=data["measures"],
                            deadline=data["deadline"], responsible=data["responsible"])
