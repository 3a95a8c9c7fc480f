"""Intake (/cases/intake/): register a visit, letter, call or online petition (issue 7).

Parse the form, let ``case_register_once`` register (the rules are the service's), and
on a refusal show its message at the field it concerns and in the summary on top,
keeping what was typed. A second submit of the same form lands on the same case.

Every POST first hands the files sent with it to ``intake_uploads_stage``, whatever
else happens: the files that pass are kept under the form's token and listed on the
page that comes back; a refused file is named with its reason and nothing registers
until the clerk has seen that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import require_action
from accounts.permissions import Action

from ..forms.intake import IntakeForm, PetitionerFormSet, county_units
from ..models.handling import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES
from ..selectors.repeats import (
    RelatedMatter,
    RepeatCandidate,
    first_petition_proposed,
    related_matters,
    repeat_candidates,
)
from ..services.intake import (
    NewFile,
    StagedUploads,
    case_register_once,
    intake_offices,
    intake_uploads_stage,
    petitioners_known,
)

PREFIX = "petitioners"
# Where each refusal of the registration service belongs on the form.
_FIELD_OF_CODE = {
    "summary": "summary", "demands": "demands", "headcount": "headcount",
    "received_in_future": "received_at", "received_too_early": "received_at",
    "cause_tags": "cause_tags", "first_petition_repeat": "is_first_petition",
    "threat_words": "threat_words", "receiving_officer": "receiving_officer",
}
FILES_ANCHOR = "id_files"
_GROUP_CODES = {"main_petitioner", "too_many_representatives", "duplicate_petitioner"}


@require_action(Action.CASE_REGISTER)
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    offices = intake_offices(user=request.user)
    if not offices:
        raise PermissionDenied
    if request.method == "GET":
        form = IntakeForm(user=request.user, offices=offices, initial={"token": uuid.uuid4()})
        return _render(request, form, PetitionerFormSet(prefix=PREFIX, units=form.units))
    staged = _stage_files(request)  # on every submit: nothing dropped is lost
    if "add_petitioner" in request.POST:
        return _with_one_more_row(request, offices, staged)
    if "check_repeats" in request.POST:  # "Look for earlier cases" without JavaScript
        return _with_repeats_checked(request, offices, staged)
    form = IntakeForm(request.POST, user=request.user, offices=offices)
    people = PetitionerFormSet(request.POST, prefix=PREFIX, units=form.units)
    if (form.is_valid() & people.is_valid()) and not staged.refused:  # every error at once
        try:
            result = case_register_once(actor=request.user, office=form.cleaned_data["office"],
                                        intake=form.to_intake(people.entered()),
                                        token=form.cleaned_data["token"])
        except ValidationError as refusal:
            return _render(request, form, people, staged, refusal=refusal)
        messages.success(request, _registered_message(result.case, created=result.created))
        return redirect("cases:detail", result.case.number)
    return _render(request, form, people, staged)


def _stage_files(request: HttpRequest) -> StagedUploads:
    """Read the files sent, the kept files' ticks and removals; let the service keep them."""
    try:
        token = uuid.UUID(request.POST.get("token", ""))
    except ValueError:
        return StagedUploads(kept=[])  # the form is refused for its token anyway
    post = request.POST
    flagged = set(post.getlist("new_accusation"))
    files = [NewFile(upload=upload, is_accusation_material="all" in flagged
                     or str(index) in flagged)
             for index, upload in enumerate(request.FILES.getlist("files"))]
    ticked = set(_ids(post.getlist("kept_accusation")))
    marks = {pk: pk in ticked for pk in _ids(post.getlist("kept"))}
    return intake_uploads_stage(actor=request.user, token=token, files=files, marks=marks,
                                remove=set(_ids(post.getlist("kept_remove"))))


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()]


def _with_one_more_row(request: HttpRequest, offices, staged: StagedUploads) -> HttpResponse:
    """"Add another petitioner" without JavaScript: the same page, one empty row more."""
    data = request.POST.copy()
    total = f"{PREFIX}-TOTAL_FORMS"
    data[total] = str(min(int(data.get(total) or 1), 99) + 1)
    return _quietly(request, offices, data, staged)


def _with_repeats_checked(request: HttpRequest, offices, staged: StagedUploads) -> HttpResponse:
    """The earlier cases found, and "first petition" set as the search proposes."""
    form = IntakeForm(request.POST, user=request.user, offices=offices)
    lookup = _repeats(request, units=form.units)
    data = request.POST.copy()
    if data.get("repeat_of", "").strip():  # linked as a repeat: never a first petition
        data["is_first_petition"] = ""
    elif lookup.first_petition is not None:
        data["is_first_petition"] = "on" if lookup.first_petition else ""
    return _quietly(request, offices, data, staged, lookup=lookup)


def _quietly(request: HttpRequest, offices, data, staged: StagedUploads, *,
             lookup: RepeatLookup | None = None) -> HttpResponse:
    """The same page again, with what was typed, without calling anything an error."""
    form = IntakeForm(data, user=request.user, offices=offices)
    people = PetitionerFormSet(data, prefix=PREFIX, units=form.units)
    return _render(request, form, people, staged, quiet=True, lookup=lookup)


def _registered_message(case, *, created: bool) -> str:
    values = {"number": case.number, "code": case.query_code}
    if not created:
        return _("This form had already registered case %(number)s; nothing was registered "
                 "twice. Query code: %(code)s.") % values
    return _("Case %(number)s is registered. Give the petitioner the query code %(code)s to "
             "follow it. Next: answer on the spot, refuse, or route it from this page.") % values


def _render(request: HttpRequest, form: IntakeForm, people, staged: StagedUploads | None = None,
            *, refusal: ValidationError | None = None, quiet: bool = False,
            lookup: RepeatLookup | None = None) -> HttpResponse:
    staged = staged or StagedUploads(kept=[])
    group_error = _place_refusal(form, people, refusal) if refusal else ""
    errors = _summary(form, people, group_error) if not quiet else []
    errors += [(FILES_ANCHOR, message) for message in staged.refused]
    if not quiet:
        form.mark_invalid()
        for row in people.forms:
            row.mark_invalid()
    if lookup is None:
        lookup = (_repeats(request, units=form.units) if request.method == "POST"
                  else RepeatLookup(candidates=[], first_petition=None))
    context = {"form": form, "people": people, "errors": errors, "show_errors": not quiet,
               "group_error": group_error, "page_title": _("Register a petition"),
               "lookup_url": _lookup_url(), "repeats_url": reverse("cases:intake_repeats"),
               "candidates": lookup.candidates, "first_petition": lookup.first_petition,
               "related": lookup.related, "uploads": staged.kept, "upload_errors": staged.refused,
               "accept": ",".join(f".{ending}" for ending in ATTACHMENT_TYPES),
               "max_mb": MAX_ATTACHMENT_BYTES // 2**20,
               "msg_check": _("The check digit of this ID number is wrong: it should end in "
                              "%(expected)s.")}
    return render(request, "cases/intake.html", context)


def _place_refusal(form: IntakeForm, people, refusal: ValidationError) -> str:
    """Put the service's message at its field; return it when it concerns the people."""
    code, message = refusal.code, refusal.messages[0]
    rows = people.entered()
    if code in _GROUP_CODES:
        return message
    if code == "name":
        row = next((r for r in rows if not (r.cleaned_data.get("name") or "").strip()
                    and not r.cleaned_data.get("is_anonymous")), rows[0])
        row.add_error("name", message)
    elif code == "address":
        rows[0].add_error("address", message)
    elif code == "jurisdiction":
        form.add_error(_jurisdiction_field(form, refusal), message)
    else:
        form.add_error(_FIELD_OF_CODE.get(code), message)
    return ""


def _jurisdiction_field(form: IntakeForm, refusal: ValidationError) -> str:
    params = refusal.params or {}
    if "number" in params:
        return "repeat_of"
    complained = form.cleaned_data.get("complained_unit")
    if complained is not None and params.get("unit") == complained.name:
        return "complained_unit"
    return "place_unit"


def _anchor(field) -> str:
    multiple = isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
    return f"{field.auto_id}_0" if multiple else field.auto_id


def _summary(form: IntakeForm, people, group_error: str) -> list[tuple[str, str]]:
    """Every error on the page, in page order, each with the id of its field."""
    errors = [("pd-intake-form", message) for message in form.non_field_errors()]
    for field in form:
        errors += [(_anchor(field), message) for message in field.errors]
    if group_error:
        errors.append(("pd-petitioners", group_error))
    errors += [("pd-petitioners", message) for message in people.non_form_errors()]
    for row in people.forms:
        errors += [(f"pd-{row.prefix}", message) for message in row.non_field_errors()]
        for field in row:
            errors += [(_anchor(field), message) for message in field.errors]
    return errors


@require_action(Action.CASE_REGISTER)
@require_GET
def petitioner_lookup(request: HttpRequest) -> HttpResponse:
    """People on file with the ID number or phone typed in one petitioner row (htmx)."""
    typed = {key.rsplit("-", 1)[-1]: value for key, value in request.GET.items()}
    found = petitioners_known(user=request.user, id_number=typed.get("id_number", ""),
                              phone=typed.get("phone", ""))
    return render(request, "cases/_intake_lookup.html", {"found": found})


def _lookup_url() -> str:
    """The petitioner lookup's address, for the form's htmx attributes."""
    return reverse("cases:intake_lookup")


@require_action(Action.CASE_REGISTER)
@require_GET
def repeat_candidates_view(request: HttpRequest) -> HttpResponse:
    """Earlier cases the petition being typed may repeat: same person, similar text (htmx)."""
    units = county_units(intake_offices(user=request.user))
    lookup = _repeats(request, units=units)
    return render(request, "cases/_intake_repeats.html",
                  {"candidates": lookup.candidates, "first_petition": lookup.first_petition,
                   "related": lookup.related})


@dataclass(frozen=True)
class RepeatLookup:
    candidates: list[RepeatCandidate]
    first_petition: bool | None  # the proposal for "first petition"; None: no one typed
    related: list[RelatedMatter] = dataclass_field(default_factory=list)  # mediations, reports


def _repeats(request: HttpRequest, *, units) -> RepeatLookup:
    """Read the people, the summary and the place from the form's fields; ask the selector."""
    data = request.GET if request.method == "GET" else request.POST
    rows: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        row, _sep, name = key.rpartition("-")
        if row.startswith(f"{PREFIX}-") and row[len(PREFIX) + 1:].isdigit():
            rows.setdefault(row, {})[name] = value
    place = data.get("place_unit", "")
    place_unit = units.filter(pk=place).first() if place.isdigit() else None  # this county only
    people = {"id_numbers": [row.get("id_number", "") for row in rows.values()],
              "phones": [row.get("phone", "") for row in rows.values()],
              "name_address_pairs": [(row.get("name", ""), row.get("address", ""))
                                     for row in rows.values()]}
    candidates = repeat_candidates(user=request.user, summary=data.get("summary", ""),
                                   place_unit=place_unit, **people)
    return RepeatLookup(candidates=candidates,
                        first_petition=first_petition_proposed(candidates, **people),
                        related=related_matters(user=request.user, **people))
