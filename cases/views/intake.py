"""Intake (/cases/intake/): register a visit, letter, call or online petition (issue 7).

Parse the form, let ``case_register_once`` register (the rules are the service's), and
on a refusal show its message at the field it concerns and in the summary on top,
keeping what was typed. A second submit of the same form lands on the same case.
"""

from __future__ import annotations

import uuid

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
from ..selectors.repeats import RepeatCandidate, repeat_candidates
from ..services.intake import case_register_once, intake_offices, petitioners_known

PREFIX = "petitioners"
# Where each refusal of the registration service belongs on the form.
_FIELD_OF_CODE = {
    "summary": "summary", "demands": "demands", "headcount": "headcount",
    "received_in_future": "received_at", "received_too_early": "received_at",
    "cause_tags": "cause_tags",
}
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
    if "add_petitioner" in request.POST:
        return _with_one_more_row(request, offices)
    if "check_repeats" in request.POST:  # "Look for earlier cases" without JavaScript
        return _quietly(request, offices, request.POST)
    form = IntakeForm(request.POST, user=request.user, offices=offices)
    people = PetitionerFormSet(request.POST, prefix=PREFIX, units=form.units)
    if form.is_valid() & people.is_valid():  # both, so every error shows at once
        try:
            result = case_register_once(actor=request.user, office=form.cleaned_data["office"],
                                        intake=form.to_intake(people.entered()),
                                        token=form.cleaned_data["token"])
        except ValidationError as refusal:
            return _render(request, form, people, refusal=refusal)
        messages.success(request, _registered_message(result.case, created=result.created))
        return redirect("cases:detail", result.case.number)
    return _render(request, form, people)


def _with_one_more_row(request: HttpRequest, offices) -> HttpResponse:
    """"Add another petitioner" without JavaScript: the same page, one empty row more."""
    data = request.POST.copy()
    total = f"{PREFIX}-TOTAL_FORMS"
    data[total] = str(min(int(data.get(total) or 1), 99) + 1)
    return _quietly(request, offices, data)


def _quietly(request: HttpRequest, offices, data) -> HttpResponse:
    """The same page again, with what was typed, without calling anything an error."""
    form = IntakeForm(data, user=request.user, offices=offices)
    people = PetitionerFormSet(data, prefix=PREFIX, units=form.units)
    return _render(request, form, people, quiet=True)


def _registered_message(case, *, created: bool) -> str:
    values = {"number": case.number, "code": case.query_code}
    if not created:
        return _("This form had already registered case %(number)s; nothing was registered "
                 "twice. Query code: %(code)s.") % values
    return _("Case %(number)s is registered. Give the petitioner the query code %(code)s to "
             "follow it. Next: answer on the spot, refuse, or route it from this page.") % values


def _render(request: HttpRequest, form: IntakeForm, people, *,
            refusal: ValidationError | None = None, quiet: bool = False) -> HttpResponse:
    group_error = _place_refusal(form, people, refusal) if refusal else ""
    errors = [] if quiet else _summary(form, people, group_error)
    if not quiet:
        form.mark_invalid()
        for row in people.forms:
            row.mark_invalid()
    context = {"form": form, "people": people, "errors": errors, "show_errors": not quiet,
               "group_error": group_error, "page_title": _("Register a petition"),
               "lookup_url": _lookup_url(), "repeats_url": reverse("cases:intake_repeats"),
               "candidates": _repeats(request, units=form.units) if request.method == "POST" else [],
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
    return render(request, "cases/_intake_repeats.html",
                  {"candidates": _repeats(request, units=units)})


def _repeats(request: HttpRequest, *, units) -> list[RepeatCandidate]:
    """Read the people, the summary and the place from the form's fields; ask the selector."""
    data = request.GET if request.method == "GET" else request.POST
    rows: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        row, _sep, name = key.rpartition("-")
        if row.startswith(f"{PREFIX}-") and row[len(PREFIX) + 1:].isdigit():
            rows.setdefault(row, {})[name] = value
    place = data.get("place_unit", "")
    place_unit = units.filter(pk=place).first() if place.isdigit() else None  # this county only
    return repeat_candidates(
        user=request.user, id_numbers=[row.get("id_number", "") for row in rows.values()],
        phones=[row.get("phone", "") for row in rows.values()],
        name_address_pairs=[(row.get("name", ""), row.get("address", "")) for row in rows.values()],
        summary=data.get("summary", ""), place_unit=place_unit)
