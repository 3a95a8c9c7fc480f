"""The intake form (/cases/intake/): it checks and converts what was typed, nothing more.

The registration rules (the legal minimum, at most five representatives, the headcount,
the county) live in ``cases/services/registration.py``; the view shows their messages
at the fields here. The first petitioner row is the main petitioner.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.choices import UnitKind
from accounts.models import OrgUnit, User

from ..choices import CauseTag, Channel, IdType, Purpose, Sex, Urgency
from ..idnumbers import birth_date, normalize_resident_id, sex, validate_resident_id
from ..models import Case, CasePetitioner, Category, Petitioner
from ..services.registration import CaseIntake, PetitionerInput
from . import mark_invalid as mark_invalid_fields
from .widgets import quicken

_datetime_widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _label(model, name: str) -> str:
    return capfirst(model._meta.get_field(name).verbose_name)


def _indented(node) -> str:
    """A tree node's name indented by its depth, so a select shows the tree."""
    return "\u3000" * (node.depth - 1) + node.name


def county_units(offices: list[OrgUnit]):
    """The units of the offices' counties, down to village or community (no grids)."""
    within = Q(pk__in=[])
    for path in {office.county_path for office in offices}:
        within |= Q(path__startswith=path)
    return (OrgUnit.objects.filter(within, is_active=True).exclude(kind=UnitKind.GRID)
            .order_by("path"))


def office_staff(offices: list[OrgUnit]):
    """The active users holding a role in one of the offices (or a unit under it)."""
    within = Q(pk__in=[])
    for office in offices:
        within |= Q(role_assignments__unit__path__startswith=office.path)
    return (User.objects.filter(within, is_active=True).distinct()
            .order_by("name", "username"))


class _Styled:
    """Bootstrap classes on every widget; ``mark_invalid`` flags the fields with errors."""

    def style(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect
                          | forms.CheckboxSelectMultiple):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs.setdefault("class", "form-control")
            if field.help_text:
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}-hint"
            if isinstance(field, forms.ModelChoiceField) and hasattr(field.queryset.model, "depth"):
                field.label_from_instance = _indented
            quicken(field)  # the county's places and categories: hundreds of options

    def mark_invalid(self) -> None:
        mark_invalid_fields(self)


class PetitionerForm(_Styled, forms.Form):
    """One person; a resident ID is checked at once (GB 11643) and gives the sex."""

    name = forms.CharField(label=_("Full name"), max_length=50, required=False,
                           help_text=_("As on the ID card; left empty only for an anonymous "
                                       "petitioner."))
    id_type = forms.ChoiceField(label=_label(Petitioner, "id_type"), choices=IdType.choices,
                                initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(
        label=_label(Petitioner, "id_number"), max_length=32, required=False,
        help_text=_("A resident ID has 18 characters; a card reader can type it in."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "data-intake-id": ""}))
    sex = forms.ChoiceField(label=_label(Petitioner, "sex"), choices=Sex.choices, required=False)
    ethnicity = forms.CharField(label=_label(Petitioner, "ethnicity"), max_length=20,
                                required=False)
    phone = forms.CharField(label=_label(Petitioner, "phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off",
                                                          "data-intake-phone": ""}))
    address = forms.CharField(label=_label(Petitioner, "address"), max_length=200,
                              required=False,
                              widget=forms.TextInput(attrs={"data-intake-address": ""}))
    address_unit = forms.ModelChoiceField(label=_label(Petitioner, "address_unit"),
                                          queryset=OrgUnit.objects.none(), required=False,
                                          empty_label=_("Not in this county, or not known"))
    is_anonymous = forms.BooleanField(label=_label(Petitioner, "is_anonymous"), required=False)
    is_representative = forms.BooleanField(label=_label(CasePetitioner, "is_representative"),
                                           required=False)

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["address_unit"].queryset = units
        self.style()

    def clean(self):
        data = super().clean()
        number, id_type = data.get("id_number", ""), data.get("id_type")
        if number and id_type == IdType.RESIDENT_ID:
            try:
                data["id_number"] = validate_resident_id(number)
            except ValidationError as error:
                self.add_error("id_number", error)
                return data
            data["sex"] = data.get("sex") or sex(data["id_number"])
        elif number:
            data["id_number"] = normalize_resident_id(number)
        return data

    def birth_date(self) -> date | None:
        """The birth date the ID number gives, shown beside it (not stored)."""
        value = self["id_number"].value() or ""
        try:
            return birth_date(value) if len(normalize_resident_id(value)) == 18 else None
        except ValueError:
            return None

    def to_input(self, *, is_main: bool) -> PetitionerInput:
        data = self.cleaned_data
        return PetitionerInput(
            name=data["name"], id_type=data["id_type"], id_number=data["id_number"],
            phone=data["phone"], sex=data.get("sex") or "",
            ethnicity=data["ethnicity"].strip(), address=data["address"],
            address_unit=data["address_unit"], is_anonymous=data["is_anonymous"],
            is_main=is_main, is_representative=data["is_representative"])


class _PetitionerFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "units": self.units}

    def __init__(self, *args, units=None, **kwargs):
        self.units = units
        super().__init__(*args, **kwargs)

    def entered(self) -> list[PetitionerForm]:
        """The rows with something typed in; the first row always counts (the main one)."""
        return [form for index, form in enumerate(self.forms)
                if index == 0 or form.has_changed()]


PetitionerFormSet = forms.formset_factory(
    PetitionerForm, formset=_PetitionerFormSet, extra=0, min_num=1, validate_min=True,
    max_num=100, absolute_max=200)


class IntakeForm(_Styled, forms.Form):
    """The matter: channel, dates, what is asked, where, against whom; the office."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    office = forms.ModelChoiceField(label=_label(Case, "registered_unit"),
                                    queryset=OrgUnit.objects.none(), empty_label=None)
    channel = forms.ChoiceField(label=_label(Case, "channel"), choices=Channel.choices,
                                initial=Channel.VISIT, widget=forms.RadioSelect)
    postal_reference = forms.CharField(label=_label(Case, "postal_reference"), max_length=50,
                                       required=False,
                                       help_text=_("For letters: the envelope's tracking number."))
    received_at = forms.DateTimeField(label=_label(Case, "received_at"), widget=_datetime_widget)
    headcount = forms.IntegerField(
        label=_label(Case, "headcount"), min_value=1, required=False,
        help_text=_("Everyone who came or signed; left empty, the number of petitioners entered."))
    receiving_officer = forms.ModelChoiceField(
        label=_label(Case, "receiving_officer"), queryset=User.objects.none(), empty_label=None,
        required=False,  # not sent: the clerk who registers received the petitioner
        help_text=_("Who received the petitioner; for a letter, who opened it."))
    purpose = forms.ChoiceField(label=_label(Case, "purpose"), choices=Purpose.choices,
                                initial=Purpose.REMEDY)
    category = forms.ModelChoiceField(
        label=_label(Case, "category"), empty_label=_("Choose a category"),
        queryset=Category.objects.filter(is_active=True).order_by("path"),
        error_messages={"required": _("Choose the category of the matter.")})
    place_unit = forms.ModelChoiceField(
        label=_label(Case, "place_unit"), queryset=OrgUnit.objects.none(),
        empty_label=_("Choose the township, village or community"),
        help_text=_("Where the matter arose, down to the village or community."),
        error_messages={"required": _("Choose the place of the matter.")})
    summary = forms.CharField(label=_("Facts"), required=False, widget=forms.Textarea(
        attrs={"rows": 4}), help_text=_("What happened, as the petitioner tells it."))
    demands = forms.CharField(label=_label(Case, "demands"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("What the petitioner asks for."))
    complained_unit = forms.ModelChoiceField(label=_label(Case, "complained_unit"),
                                             queryset=OrgUnit.objects.none(), required=False,
                                             empty_label=_("None"))
    complained_person = forms.CharField(label=_label(Case, "complained_person"), max_length=100,
                                        required=False)
    urgency = forms.ChoiceField(label=_label(Case, "urgency"), choices=Urgency.choices,
                                initial=Urgency.NORMAL, widget=forms.RadioSelect)
    cause_tags = forms.MultipleChoiceField(label=_label(Case, "cause_tags"),
                                           choices=CauseTag.choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    repeat_of = forms.CharField(
        label=_label(Case, "repeat_of"), max_length=32, required=False,
        help_text=_("The number of the earlier case on the same matter, if any."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    new_facts = forms.CharField(
        label=_label(Case, "new_facts"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("When the earlier case is final: what is new. Without it the petition is "
                    "registered and not accepted."))

    is_first_petition = forms.BooleanField(
        label=_label(Case, "is_first_petition"), required=False,
        help_text=_("The person's first petition on this matter. Ticked for you when no earlier "
                    "case of the person is found; a repeat cannot carry it."))
    is_level_skipping = forms.BooleanField(label=_label(Case, "is_level_skipping"),
                                           required=False)
    is_litigation_related = forms.BooleanField(label=_label(Case, "is_litigation_related"),
                                               required=False)
    has_threat = forms.BooleanField(label=_label(Case, "has_threat"), required=False,
                                    widget=forms.CheckboxInput(attrs={"data-intake-threat": ""}))
    threat_words = forms.CharField(
        label=_label(Case, "threat_words"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed with a threat: what the petitioner said, in their words."))
    is_secret = forms.BooleanField(label=_label(Case, "is_secret"), required=False)
    is_public = forms.BooleanField(
        label=_label(Case, "is_public"), required=False,
        help_text=_("Only when the petitioner agrees that the matter and its reply may be "
                    "published."))

    MARKS = ("is_first_petition", "is_level_skipping", "is_litigation_related", "has_threat",
             "is_secret", "is_public")

    def __init__(self, *args, user: User, offices: list[OrgUnit], **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        units = county_units(offices)
        self.units = units
        office = self.fields["office"]
        office.queryset = OrgUnit.objects.filter(pk__in=[unit.pk for unit in offices])
        office.initial = offices[0].pk if offices else None
        if len(offices) == 1:
            office.widget = forms.HiddenInput()
        self.fields["place_unit"].queryset = units
        self.fields["complained_unit"].queryset = units
        officer = self.fields["receiving_officer"]
        officer.queryset = office_staff(offices)
        officer.initial = user.pk
        officer.label_from_instance = lambda staff: staff.display_name
        self.fields["received_at"].initial = lambda: timezone.localtime().replace(
            second=0, microsecond=0)
        self.style()

    def clean_receiving_officer(self) -> User:
        return self.cleaned_data["receiving_officer"] or self.user

    def clean_repeat_of(self) -> Case | None:
        number = self.cleaned_data["repeat_of"].strip()
        if not number:
            return None
        case = Case.objects.visible_to(self.user).filter(number=number).first()
        if case is None:
            raise ValidationError(_("No case you may see has the number %(number)s."),
                                  code="repeat_unknown", params={"number": number})
        return case

    def to_intake(self, people: list[PetitionerForm]) -> CaseIntake:
        data = self.cleaned_data
        petitioners = [form.to_input(is_main=index == 0) for index, form in enumerate(people)]
        return CaseIntake(
            channel=data["channel"], received_at=data["received_at"], petitioners=petitioners,
            purpose=data["purpose"], category=data["category"], summary=data["summary"],
            demands=data["demands"], place_unit=data["place_unit"],
            headcount=data["headcount"] or len(petitioners),
            complained_unit=data["complained_unit"],
            complained_person=data["complained_person"].strip(),
            postal_reference=data["postal_reference"] if data["channel"] == Channel.LETTER
            else "",
            repeat_of=data["repeat_of"], new_facts=data["new_facts"],
            cause_tags=tuple(data["cause_tags"]), urgency=data["urgency"],
            receiving_officer=data["receiving_officer"], threat_words=data["threat_words"],
            **{mark: data[mark] for mark in self.MARKS})
