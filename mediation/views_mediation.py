"""Mediation pages: the mediator's home, the list, a new (walk-in) case, the case page with
a form for each step, the numbers per committee and year, a petition case sent to mediation,
and the three print-ready documents.

A step's bad input comes back on the case page with the message and every typed value; a
stale version is 409, a refusal 403 (``refused``)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import require_action
from accounts.models import User
from accounts.permissions import Action, can
from cases.selectors.wording import display_formats
from cases.services.undertakings import office_today
from cases.views.case_page import case_or_404

from . import agreements as ag
from . import forms_mediation as f
from . import mediation_pages as pages
from . import mediations as m
from .models import (
    Agreement,
    AgreementForm,
    Committee,
    MediationCase,
    MediationKind,
    MediationStatus,
    Side,
    Term,
)

# --- Lists --------------------------------------------------------------------------------


@require_action(Action.MEDIATION_HANDLE)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The mediator's landing page: their committees' open cases, overdue first."""
    data = pages.mediation_home(user=request.user)
    return render(request, "mediation/mediation_home.html", {
        "data": data, "year": office_today().year, "day_format": display_formats()[0]})


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.MEDIATION_VIEW):
        return refused(request, _("The mediation cases are for the mediators, and the "
                                  "leaders and supervisors over them."))
    committees = _committees_seen(request.user)
    form = f.ListFilterForm(request.GET or None, committees=committees)
    data = form.cleaned_data if form.is_valid() else {}
    rows = pages.mediations_filtered(user=request.user, status=data.get("status", ""),
                                 committee=data.get("committee"), kind=data.get("kind", ""))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "mediation/mediation_list.html", {
        "page": page, "form": form, "day_format": display_formats()[0]})


@login_required
@require_GET
def numbers(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.MEDIATION_VIEW):
        return refused(request, _("The numbers are for the mediators, and the leaders and "
                                  "supervisors over them."))
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else office_today().year
    rows = pages.mediation_numbers(user=request.user, year=year)
    totals = {key: sum(row[key] for row in rows) for key in
              ("opened", "agreements", "no_agreement", "withdrawn", "performed", "still_open")}
    return render(request, "mediation/mediation_numbers.html",
                  {"rows": rows, "year": year, "totals": totals})


def _committees_seen(user: User) -> list[Committee]:
    ids = pages.mediations_visible(user=user).values("committee_id")
    return list(Committee.objects.filter(pk__in=ids).order_by("code"))


# --- A new case, and a petition case sent to mediation ----------------------------------------

@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    committees = m.committees_workable(user=request.user)
    if not committees:
        return refused(request, _("Mediation cases are opened by the mediators of a committee."))
    people = _mediators_of(committees)
    data = request.POST if request.method == "POST" else None
    form = f.OpenForm(data, committees=committees, mediators=people,
                      initial={"mediators": [str(request.user.pk)]})
    sides = {side: f.PartyForm(data, prefix=side, required=side == Side.APPLICANT)
             for side in (Side.APPLICANT, Side.RESPONDENT)}
    status = 200
    if data is not None and form.is_valid() & all([p.is_valid() for p in sides.values()]):
        try:
            case = _open_walk_in(request, form, sides, committees, people)
        except PermissionDenied as refusal:
            return refused(request, str(refusal))
        except ValidationError as problem:
            _errors_onto(form, problem)
        else:
            messages.success(request, _("Mediation %(number)s is opened.")
                             % {"number": case.number})
            return redirect("mediation:case", pk=case.pk)
    return render(request, "mediation/mediation_new.html",
                  {"form": form, "sides": sides}, status=status)


def _open_walk_in(request, form, sides, committees, people) -> MediationCase:
    data = form.cleaned_data
    chosen = {str(u.pk): u for u in people}
    return m.mediation_open_walk_in(
        committee=next(c for c in committees if str(c.pk) == data["committee"]),
        kind=data["kind"], dispute_kind=data["dispute_kind"], summary=data["summary"],
        parties=[typed for side, p in sides.items() if (typed := p.typed(side))],
        mediators=[chosen[pk] for pk in data["mediators"]], actor=request.user)


def _mediators_of(committees: list[Committee]) -> list[User]:
    found: dict[int, User] = {}
    for committee in committees:
        found.update({u.pk: u for u in m.mediators_eligible(committee)})
    return sorted(found.values(), key=lambda u: (u.name, u.pk))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, number: str) -> HttpResponse:
    """Send a petition case to mediation: which committee, which kind (M27)."""
    case = case_or_404(request, number)
    if not can(request.user, Action.CASE_SEND_TO_MEDIATION, case):
        return refused(request, _("Only the unit handling the case, or the office that "
                                  "registered it, sends it to mediation."))
    committees = list(m.committees_for_case(case))
    form = f.SendForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mediation = m.mediation_from_case(
                case=case, committee=next(c for c in committees if str(c.pk) == data["committee"]),
                kind=data["kind"], dispute_kind=data["dispute_kind"], actor=request.user)
        except PermissionDenied as refusal:
            return refused(request, str(refusal))
        except ValidationError as problem:
            _errors_onto(form, problem)
        else:
            messages.success(request, _("Case %(case)s is sent to mediation as %(number)s; its "
                                        "outcome will be recorded on the case.")
                             % {"case": case.number, "number": mediation.number})
            return redirect("cases:detail", case.number)
    return render(request, "mediation/mediation_send.html", {"case": case, "form": form})


# --- The case page and its steps ---------------------------------------------------------------

def _case_or_404(request: HttpRequest, pk: int) -> MediationCase:
    """A case the user sees (MEDIATION_VIEW); 404 for one they do not, as for an unknown one."""
    rows = pages.mediations_visible(user=request.user).select_related(
        "committee__unit", "report", "petition_case", "opened_by")
    return get_object_or_404(rows, pk=pk)


@never_cache
@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _case_or_404(request, pk))


def _steps_open(page: pages.MediationPage) -> set[str]:
    """The steps the page offers now; the services check again on the locked row."""
    if not page.may_act:
        return set()
    agreement, status = page.agreement, page.case.status
    steps = set()
    if status in (MediationStatus.OPEN, MediationStatus.AGREEMENT):
        steps.add("mediators")
    if status == MediationStatus.OPEN:
        steps |= {"consent", "meeting", "conclude"}
        if agreement is None:
            steps.add("party")
        if not page.in_effect:
            steps.add("agreement")
            if agreement is not None and agreement.form == AgreementForm.WRITTEN:
                steps.add("sign")
    if page.in_effect and agreement.form == AgreementForm.WRITTEN:
        steps.add("court_answer" if agreement.confirmation_applied_on else "confirmation")
        if agreement.court_answer:
            steps.discard("court_answer")
    if page.in_effect and status in (MediationStatus.OPEN, MediationStatus.AGREEMENT):
        steps.add("check")
    return steps


_STEP_FORMS: dict[str, type[f._Step]] = {
    "mediators": f.MediatorsForm, "party": f.PartyAddForm, "consent": f.ConsentForm,
    "meeting": f.MeetingForm, "agreement": f.AgreementDraftForm, "sign": f.SignForm,
    "conclude": f.ConcludeForm, "confirmation": f.ConfirmationForm,
    "court_answer": f.CourtAnswerForm,
}


def _step_form(name: str, case: MediationCase, data=None) -> f._Step:
    extra = {}
    if name == "mediators":
        extra["people"] = m.mediators_eligible(case.committee)
    elif name == "conclude":  # a round reopened over a term may end standing by the agreement
        extra["reopened"] = (case.status == MediationStatus.OPEN and m.agreement_in_effect(
            Agreement.objects.filter(case=case).first()))
    return _STEP_FORMS[name](data, case=case, prefix=name, **extra)


def _page(request: HttpRequest, case: MediationCase, *, status: int = 200,
          bound: tuple[str, f._Step] | None = None) -> HttpResponse:
    page = pages.mediation_page(user=request.user, mediation=case)
    steps = _steps_open(page)
    forms = {name: _step_form(name, case) for name in steps if name in _STEP_FORMS}
    checks = {row.term.pk: f.TermCheckForm(case=case, prefix=f"t{row.term.pk}")
              for row in page.terms if "check" in steps and not row.performed}
    if bound is not None:
        name, form = bound
        if name in _STEP_FORMS:
            forms[name] = form
        else:  # a term's check: "t<term pk>"
            checks[int(name[1:])] = form
    day_format, moment_format = display_formats()
    return render(request, "mediation/mediation_case.html", {
        "page": page, "case": case, "forms": forms, "bound": bound,
        "terms": [(row, checks.get(row.term.pk)) for row in page.terms],
        "day_format": day_format, "moment_format": moment_format,
        "ended": case.status in (MediationStatus.NO_AGREEMENT, MediationStatus.WITHDRAWN),
    }, status=status)


@login_required
@require_POST
def case_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    case = _case_or_404(request, pk)
    if step not in _STEP_FORMS:
        raise Http404(_("There is no such step."))
    form = _step_form(step, case, request.POST)
    return _act(request, case, step, form, _STEP_SERVICES[step])


@login_required
@require_POST
def term_check(request: HttpRequest, pk: int, term: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    row = get_object_or_404(Term.objects.select_related("agreement__case"), pk=term,
                            agreement__case=case)
    form = f.TermCheckForm(request.POST, case=case, prefix=f"t{row.pk}")

    def service(req, _case, form):
        d = form.cleaned_data
        return ag.mediation_term_check(term=row, actor=req.user, version=d["version"],
                                      check=ag.CheckInput(checked_on=d["checked_on"],
                                                         result=d["result"], note=d["note"],
                                                         after_default=d["after_default"]))

    return _act(request, case, f"t{row.pk}", form, service)


def _act(request, case: MediationCase, name: str, form: f._Step,
         service: Callable) -> HttpResponse:
    """Validate, call the service, answer: back to the case when done; the page again with
    the typed values and the message when not (403 refused, 409 stale or moved on)."""
    if not can(request.user, Action.MEDIATION_ACT, case):  # asked first; the service again
        return refused(request, _("Only the mediators of this committee, or of the township "
                                  "over it, may change this mediation."))
    status = 200
    if form.is_valid():
        try:
            service(request, case, form)
        except PermissionDenied as refusal:
            return refused(request, str(refusal))
        except ValidationError as problem:
            status = 409 if getattr(problem, "code", "") in ("stale", "status") else 200
            _errors_onto(form, problem)
        else:
            messages.success(request, _("Recorded."))
            return redirect("mediation:case", pk=case.pk)
    case.refresh_from_db()
    return _page(request, case, status=status, bound=(name, form))


def _errors_onto(form, problem: ValidationError) -> None:
    """Put a service's message at its field when the form has that field, else on top."""
    if not hasattr(problem, "error_dict"):
        form.add_error(None, problem)
        return
    for name, errors in problem.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "mediation/refused.html", {"message": message}, status=403)


# What each step's form calls: (request, case, the valid form) -> anything.
def _mediators(req, case, form):
    d, people = form.cleaned_data, {str(u.pk): u for u in m.mediators_eligible(case.committee)}
    return m.mediation_mediators_set(mediation=case, actor=req.user, version=d["version"],
                                     mediators=[people[pk] for pk in d["mediators"]])


def _party(req, case, form):
    d = form.cleaned_data
    return m.mediation_party_add(mediation=case, party=form.typed(d["side"]) or m.PartyTyped(
        side=d["side"]), actor=req.user, version=d["version"])


def _consent(req, case, form):
    d = form.cleaned_data
    party = get_object_or_404(case.parties, pk=d["party"])
    return m.mediation_consent_record(mediation=case, party=party, consents=d["consents"] == "yes",
                                      note=d["note"], actor=req.user, version=d["version"])


def _meeting(req, case, form):
    d = form.cleaned_data
    return m.mediation_meeting_record(
        mediation=case, actor=req.user, version=d["version"], meeting=m.MeetingInput(
            held_on=d["held_on"], place=d["place"], attendees=d["attendees"], record=d["record"],
            corrects=d["corrects"]))


def _agreement(req, case, form):
    d = form.cleaned_data
    return ag.mediation_agreement_record(
        mediation=case, actor=req.user, version=d["version"], agreement=ag.AgreementInput(
            form=d["form"], facts=d["facts"], issues=d["issues"], signed_on=d["signed_on"],
            parties_signed=d["parties_signed"], mediator_signed=d["mediator_signed"],
            sealed=d["sealed"], terms=tuple(ag.TermInput(**t) for t in form.terms())))


def _sign(req, case, form):
    d = form.cleaned_data
    return ag.mediation_agreement_sign(
        mediation=case, signed_on=d["signed_on"], parties_signed=d["parties_signed"],
        mediator_signed=d["mediator_signed"], sealed=d["sealed"], actor=req.user,
        version=d["version"])


def _conclude(req, case, form):
    d = form.cleaned_data
    return ag.mediation_conclude(mediation=case, outcome=d["outcome"], note=d["note"],
                                follow_up_on=d["follow_up_on"], actor=req.user,
                                version=d["version"])


def _confirmation(req, case, form):
    d = form.cleaned_data
    return ag.mediation_confirmation_apply(mediation=case, applied_on=d["applied_on"],
                                          court=d["court"], actor=req.user, version=d["version"])


def _court_answer(req, case, form):
    d = form.cleaned_data
    return ag.mediation_court_answer(mediation=case, answer=d["answer"],
                                    answered_on=d["answered_on"], actor=req.user,
                                    version=d["version"])


_STEP_SERVICES: dict[str, Callable] = {
    "mediators": _mediators, "party": _party, "consent": _consent, "meeting": _meeting,
    "agreement": _agreement, "sign": _sign, "conclude": _conclude,
    "confirmation": _confirmation, "court_answer": _court_answer,
}


# --- Documents (print-ready A4, as the case notices) ---------------------------------------------

@login_required
@require_GET
def print_agreement(request: HttpRequest, pk: int) -> HttpResponse:
    """The mediation agreement (人民调解协议书, PML Art.29), for the parties to sign."""
    case = _case_or_404(request, pk)
    agreement = Agreement.objects.filter(case=case).first()
    if agreement is None:
        raise Http404(_("This mediation has no agreement."))
    title = {MediationKind.PEOPLES: _("People's mediation agreement"),
             MediationKind.ADMINISTRATIVE: _("Administrative mediation agreement")}.get(
        case.kind, _("Mediation agreement"))
    return _document(request, case, "agreement", title=title, agreement=agreement,
                     terms=agreement.terms.select_related("obligor__petitioner")
                     .order_by("position"))


@login_required
@require_GET
def print_meeting(request: HttpRequest, pk: int, meeting: int) -> HttpResponse:
    """The record of one meeting (调解笔录, PML Art.27)."""
    case = _case_or_404(request, pk)
    row = get_object_or_404(case.meetings.select_related("recorded_by"), pk=meeting)
    return _document(request, case, "meeting", title=_("Mediation record"), meeting=row,
                     full=False)


@login_required
@require_GET
def print_application(request: HttpRequest, pk: int) -> HttpResponse:
    """The parties' joint application for judicial confirmation (PML Art.33; CPL Art.205)."""
    case = _case_or_404(request, pk)
    agreement = Agreement.objects.filter(case=case).first()
    if not m.agreement_in_effect(agreement) or agreement.form != AgreementForm.WRITTEN:
        raise Http404(_("Judicial confirmation is applied for on a written agreement in "
                        "effect."))
    return _document(request, case, "application",
                     title=_("Application for judicial confirmation"), agreement=agreement)


def _document(request, case: MediationCase, kind: str, *, title: str, full: bool = True,
              **extra) -> HttpResponse:
    """A document in the case notices' A4 layout; ``full``: it names the parties in full for
    their signatures (mediators only; logged as a view of personal data)."""
    try:
        parties = (pages.document_parties(user=request.user, mediation=case) if full else
                   list(case.parties.select_related("petitioner").order_by("side", "pk")))
    except PermissionDenied as refusal:
        return refused(request, str(refusal))
    for party in parties:  # a blank particular is a dash on paper, never "Not stated"
        person = party.petitioner
        party.sex_text = person.get_sex_display() if person and person.sex else "—"
    return render(request, f"mediation/print/{kind}.html", {
        "case": case, "committee": case.committee, "parties": parties, "title": title,
        "document": kind,
        "applicants": [p for p in parties if p.side == Side.APPLICANT],
        "respondents": [p for p in parties if p.side == Side.RESPONDENT],
        "mediators": list(case.mediators.order_by("name", "pk")),
        "day_format": display_formats()[0], "today": office_today(timezone.now()),
        "print_now": request.GET.get("print") == "1", **extra})
