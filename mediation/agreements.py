"""A mediation's outcome (mediation/DECISIONS.md M23-M31): an agreement (what PML Art.29
asks; its signing and seal, when it takes effect), none, or withdrawn; the joint
application for court confirmation inside its 30-day window (Art.33) and the court's
answer; the follow-up (回访) of each term at its deadline, and what follows a term not
performed (mediate again, or the court). The same row lock, version check and trail as
``mediations.py``, whose helpers these use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from cases.choices import ClockKind, ClockStatus
from cases.services.undertakings import office_today

from .clocks import dispute_clock_cancel, dispute_clock_meet, dispute_clock_start, live_clock
from .mediations import (
    _agreement,
    _day_checked,
    _end,
    _event,
    _locked,
    _noon,
    _performance_stop,
    _ready_to_mediate,
    _save,
    agreement_in_effect,
)
from .models import (
    AfterDefault,
    Agreement,
    AgreementForm,
    CourtAnswer,
    DisputeClock,
    EventKind,
    MediationCase,
    MediationStatus,
    Performance,
    Side,
    Term,
    TermCheck,
)

ART33 = _("The parties apply jointly for judicial confirmation within 30 days of the "
          "agreement taking effect (People's Mediation Law, Art. 33); that window closed on "
          "%(due)s. The parties may still go to court over the agreement (Art. 32).")


# --- The outcome ------------------------------------------------------------------------

@dataclass(frozen=True)
class TermInput:
    obligor: int  # a MediationParty of the case
    content: str
    manner: str
    due_on: date | None


@dataclass(frozen=True)
class AgreementInput:
    form: str
    facts: str
    issues: str
    signed_on: date | None
    parties_signed: bool
    mediator_signed: bool
    sealed: bool
    terms: tuple[TermInput, ...] = field(default_factory=tuple)


def _check_agreement(row: MediationCase, agreement: AgreementInput, at: datetime) -> date:
    """What PML Art.29 asks: both sides, the facts, the issues, each term with who, what,
    how and by when; a term due before the signing day is refused (M25)."""
    _ready_to_mediate(row)
    if not row.meetings.exists():
        raise ValidationError(_("Record the meeting at which the parties agreed first "
                                "(People's Mediation Law, Art. 27)."), code="no_meeting")
    sides = set(row.parties.values_list("side", flat=True))
    if sides != {Side.APPLICANT, Side.RESPONDENT}:
        raise ValidationError(_("An agreement needs an applicant and a respondent; add the "
                                "missing party first."), code="sides")
    errors = {}
    if agreement.form not in AgreementForm.values:
        errors["form"] = _("Say whether the agreement is written or oral.")
    for name in ("facts", "issues"):
        if not (getattr(agreement, name) or "").strip():
            errors[name] = _("The agreement states this (People's Mediation Law, Art. 29).")
    if errors:
        raise ValidationError(errors)
    signed_on = _day_checked(agreement.signed_on, row=row, at=at, name="signed_on")
    _check_terms(row, agreement.terms, signed_on)
    return signed_on


def _check_terms(row: MediationCase, terms, signed_on: date) -> None:
    if not terms:
        raise ValidationError(_("Write at least one term: who does what, how, and by when."),
                              code="no_terms")
    parties = set(row.parties.values_list("pk", flat=True))
    for number, term in enumerate(terms, start=1):
        if term.obligor not in parties:
            raise ValidationError(_("Term %(n)d: choose the party bound by it.") % {"n": number},
                                  code="term_obligor")
        if not (term.content or "").strip() or not (term.manner or "").strip():
            raise ValidationError(_("Term %(n)d: say what is to be done and how.")
                                  % {"n": number}, code="term_content")
        if term.due_on is None or term.due_on < signed_on:
            raise ValidationError(_("Term %(n)d: it must be performed on or after the day the "
                                    "agreement is signed (%(day)s).")
                                  % {"n": number, "day": signed_on.isoformat()}, code="term_due")


@transaction.atomic
def mediation_agreement_record(*, mediation: MediationCase, agreement: AgreementInput,
                               actor: User, version: int, at: datetime | None = None) -> Agreement:
    """Record the agreement (PML Art.28-30). An oral one, or a written one signed by the
    parties and the mediator and sealed, takes effect now; else it waits for the signatures
    (``mediation_agreement_sign``) and may be drawn up again until then (M24)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor)
    existing = _agreement(row)
    if agreement_in_effect(existing):
        raise ValidationError(_("The agreement is in effect. Conclude this round of mediation "
                                "instead: the parties stand by it, or no agreement, or "
                                "withdrawn."), code="in_effect")
    signed_on = _check_agreement(row, agreement, at)
    values = {"form": agreement.form, "facts": agreement.facts.strip(),
              "issues": agreement.issues.strip(), "signed_on": signed_on,
              "parties_signed": agreement.parties_signed,
              "mediator_signed": agreement.mediator_signed, "sealed": agreement.sealed,
              "recorded_by": actor, "recorded_at": at}
    if existing is not None:
        existing.terms.all().delete()  # a draft never in effect: no clock, no check on it
    made, _created = Agreement.objects.update_or_create(case=row, defaults=values)
    Term.objects.bulk_create([
        Term(agreement=made, position=n, obligor_id=term.obligor, content=term.content.strip(),
             manner=term.manner.strip(), due_on=term.due_on)
        for n, term in enumerate(agreement.terms, start=1)])
    _save(row, [])
    _event(row, EventKind.AGREEMENT, actor, at, agreement=made.pk, form=made.form,
           signed_on=signed_on.isoformat(), terms=len(agreement.terms),
           redrawn=existing is not None,
           parties_signed=made.parties_signed, mediator_signed=made.mediator_signed,
           sealed=made.sealed)
    if agreement_in_effect(made):
        _take_effect(row, made, actor=actor, at=at)
    return made


@transaction.atomic
def mediation_agreement_sign(*, mediation: MediationCase, signed_on: date | None,
                             parties_signed: bool, mediator_signed: bool, sealed: bool,
                             actor: User, version: int, at: datetime | None = None) -> Agreement:
    """Record the signatures and the seal on a written agreement; with all three it takes
    effect on ``signed_on`` (PML Art.29; M24)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor)
    made = _agreement(row)
    if made is None or agreement_in_effect(made):
        raise ValidationError(_("There is no written agreement awaiting signatures."),
                              code="nothing_to_sign")
    signed_on = _day_checked(signed_on, row=row, at=at, name="signed_on")
    late = made.terms.filter(due_on__lt=signed_on).order_by("position").first()
    if late is not None:
        raise ValidationError({"signed_on": _(
            "Term %(n)d is due on %(day)s, before this signing day: draw the agreement up "
            "again with new days.") % {"n": late.position, "day": late.due_on.isoformat()}})
    made.signed_on, made.parties_signed = signed_on, parties_signed
    made.mediator_signed, made.sealed = mediator_signed, sealed
    made.save(update_fields=["signed_on", "parties_signed", "mediator_signed", "sealed"])
    _save(row, [])
    _event(row, EventKind.AGREEMENT, actor, at, agreement=made.pk, signed_on=signed_on.isoformat(),
           parties_signed=parties_signed, mediator_signed=mediator_signed, sealed=sealed)
    if agreement_in_effect(made):
        _take_effect(row, made, actor=actor, at=at)
    return made


def _follow_up_days(start: date, due: date) -> int:
    """A term's clock runs to its own day; one due the day it is agreed is followed up the
    next day at the latest (a clock is at least a day long; M25)."""
    return max((due - start).days, 1)


def _take_effect(row: MediationCase, made: Agreement, *, actor: User, at: datetime) -> None:
    """The case is concluded with an agreement: the court-confirmation window runs from the
    day it took effect (written only, M26) and each term's PERFORMANCE clock to its day."""
    start = _noon(made.signed_on)
    if made.form == AgreementForm.WRITTEN:
        dispute_clock_start(owner=row, kind=ClockKind.CONFIRMATION, start=start, at=at,
                            actor=actor)
    for term in made.terms.all():
        dispute_clock_start(owner=term, kind=ClockKind.PERFORMANCE, start=start, at=at,
                            actor=actor, days=_follow_up_days(made.signed_on, term.due_on))
    _end(row, MediationStatus.AGREEMENT, note="", actor=actor, at=at, reason="agreement",
         in_effect_on=made.signed_on.isoformat())


@transaction.atomic
def mediation_conclude(*, mediation: MediationCase, outcome: str, note: str, actor: User,
                       version: int, at: datetime | None = None,
                       follow_up_on: date | None = None) -> MediationCase:
    """End the mediation (or a round reopened over a term not performed) with no agreement
    or withdrawn, saying why (PML Art.26); a reopened round may also end with the parties
    standing by their agreement, the terms in default followed up again on ``follow_up_on``
    (M29)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor)
    note = (note or "").strip()
    reopened = agreement_in_effect(_agreement(row))
    allowed = [MediationStatus.NO_AGREEMENT, MediationStatus.WITHDRAWN]
    if reopened:
        allowed.append(MediationStatus.AGREEMENT)
    if outcome not in allowed:
        raise ValidationError({"outcome": _("Choose no agreement or withdrawn; an agreement "
                                            "is recorded with its terms.")})
    if outcome == MediationStatus.AGREEMENT:
        return _stand_by(row, note=note, follow_up_on=follow_up_on, actor=actor, at=at)
    if not note:
        raise ValidationError({"note": _("Say why the mediation ended; the parties are told "
                                         "they may go to arbitration, an administrative body "
                                         "or a court (People's Mediation Law, Art. 26).")})
    _end(row, outcome, note=note, actor=actor, at=at, reason="concluded")
    _performance_stop(row, actor=actor, at=at)
    return row


def _stand_by(row: MediationCase, *, note: str, follow_up_on: date | None, actor: User,
              at: datetime) -> MediationCase:
    """The reopened round settled: the terms in default get a new follow-up day."""
    today = office_today(at)
    if follow_up_on is None or follow_up_on < today:
        raise ValidationError({"follow_up_on": _("Give the day, today or later, on which the "
                                                 "terms not yet performed are followed up "
                                                 "again.")})
    for term in _terms_in_default(row):
        dispute_clock_start(owner=term, kind=ClockKind.PERFORMANCE, start=_noon(today), at=at,
                            actor=actor, days=_follow_up_days(today, follow_up_on))
    _end(row, MediationStatus.AGREEMENT, note=note, actor=actor, at=at, reason="stand_by",
         follow_up_on=follow_up_on.isoformat())
    return row


def _terms_in_default(row: MediationCase) -> list[Term]:
    """Terms not performed yet that no running clock follows."""
    live = (DisputeClock.objects.filter(term__agreement__case=row, kind=ClockKind.PERFORMANCE,
                                        status__in=(ClockStatus.OPEN, ClockStatus.PAUSED))
            .values("term_id"))
    return list(Term.objects.filter(agreement__case=row)
                .exclude(checks__result=Performance.PERFORMED)
                .exclude(pk__in=live).order_by("position"))


# --- Court confirmation -----------------------------------------------------------------

class _WindowClosed(Exception):
    def __init__(self, clock: DisputeClock | None, due: date | None) -> None:
        super().__init__()
        self.clock, self.due = clock, due


def mediation_confirmation_apply(*, mediation: MediationCase, applied_on: date | None,
                                 court: str, actor: User, version: int,
                                 at: datetime | None = None) -> Agreement:
    """Record the parties' joint application for judicial confirmation, inside the 30 days
    from the agreement's taking effect (PML Art.33; CPL Art.205). A late one is refused,
    and the window is closed as lapsed (that part stays when the refusal is caught; M26)."""
    at = at or timezone.now()
    try:
        return _confirmation_apply(mediation=mediation, applied_on=applied_on, court=court,
                                   actor=actor, version=version, at=at)
    except _WindowClosed as closed:
        if closed.clock is not None:
            _window_lapse(mediation, at=at, actor=actor)
        raise ValidationError(ART33 % {"due": closed.due.isoformat() if closed.due else "—"},
                              code="window_closed") from None


@transaction.atomic
def _confirmation_apply(*, mediation, applied_on, court, actor, version, at) -> Agreement:
    row = _locked(mediation, version, actor, statuses=tuple(MediationStatus.values))
    made = _agreement(row)
    if not agreement_in_effect(made) or made.form != AgreementForm.WRITTEN:
        raise ValidationError(_("Judicial confirmation is applied for on a written agreement "
                                "in effect."), code="no_agreement")
    if made.confirmation_applied_on:
        raise ValidationError(_("The application is already recorded."), code="applied")
    if not (court or "").strip():
        raise ValidationError({"court": _("Name the court the parties applied to.")})
    applied_on = _day_checked(applied_on, row=row, at=at, name="applied_on",
                              not_before=made.signed_on)
    # The day the parties applied decides (M26), not the day it is recorded: a window the
    # nightly run closed as lapsed still takes an application made inside it.
    window = (DisputeClock.objects.select_for_update()
              .filter(mediation=row, kind=ClockKind.CONFIRMATION).order_by("-pk").first())
    if window is None or applied_on > window.due_on:
        raise _WindowClosed(live_clock(row, ClockKind.CONFIRMATION),
                            window.due_on if window else None)
    made.confirmation_applied_on, made.court = applied_on, court.strip()
    made.save(update_fields=["confirmation_applied_on", "court"])
    _save(row, [])
    recorded_late = window.status == ClockStatus.LAPSED
    if recorded_late:  # used in time after all: met on the day applied (the event says so)
        window.status, window.closed_at = ClockStatus.MET, _noon(applied_on)
        window.save(update_fields=["status", "closed_at"])
    dispute_clock_meet(owner=row, kind=ClockKind.CONFIRMATION, at=min(at, _noon(applied_on)),
                       actor=actor)
    _event(row, EventKind.CONFIRMATION, actor, at, applied_on=applied_on.isoformat(),
           court=made.court, window=window.pk, recorded_after_lapse=recorded_late)
    return made


@transaction.atomic
def _window_lapse(mediation: MediationCase, *, at: datetime, actor: User | None) -> None:
    window = live_clock(mediation, ClockKind.CONFIRMATION)
    if window is not None and at >= window.due_at:
        dispute_clock_meet(owner=mediation, kind=ClockKind.CONFIRMATION, at=at, actor=actor)


def mediation_windows_lapse(*, now: datetime | None = None) -> int:
    """Close as lapsed every court-confirmation window that ran out unused (PML Art.33)."""
    now = now or timezone.now()
    owners = list(MediationCase.objects.filter(
        clocks__kind=ClockKind.CONFIRMATION, clocks__due_at__lte=now,
        clocks__status__in=(ClockStatus.OPEN, ClockStatus.PAUSED)).distinct())
    for owner in owners:
        _window_lapse(owner, at=now, actor=None)
    return len(owners)


@transaction.atomic
def mediation_court_answer(*, mediation: MediationCase, answer: str, answered_on: date | None,
                           actor: User, version: int, at: datetime | None = None) -> Agreement:
    """Record the court's answer: confirmed, or not (then the parties may change the agreement
    by mediation, make a new one, or sue: PML Art.33; M26)."""
    at = at or timezone.now()
    row = _locked(mediation, version, actor, statuses=tuple(MediationStatus.values))
    made = _agreement(row)
    if made is None or not made.confirmation_applied_on:
        raise ValidationError(_("Record the application for confirmation first."),
                              code="not_applied")
    if made.court_answer:
        raise ValidationError(_("The court's answer is already recorded."), code="answered")
    if answer not in CourtAnswer.values:
        raise ValidationError({"answer": _("Choose confirmed or not confirmed.")})
    answered_on = _day_checked(answered_on, row=row, at=at, name="answered_on",
                               not_before=made.confirmation_applied_on)
    made.court_answer, made.court_answered_on = answer, answered_on
    made.save(update_fields=["court_answer", "court_answered_on"])
    _save(row, [])
    _event(row, EventKind.CONFIRMATION, actor, at, answer=answer,
           answered_on=answered_on.isoformat())
    return made


# --- Performance (回访) ---------------------------------------------------------------------

@dataclass(frozen=True)
class CheckInput:
    checked_on: date | None
    result: str
    note: str = ""
    after_default: str = ""


@transaction.atomic
def mediation_term_check(*, term: Term, check: CheckInput, actor: User, version: int,
                         at: datetime | None = None) -> TermCheck:
    """Follow a term up (回访, PML Art.31): performed meets its clock; partly or not
    performed stops it and records the mediator's choice: mediate again (the case reopens,
    a new MEDIATION clock) or point the parties to the court (PML Art.32; M30-M31). Every
    term performed: the case is performed."""
    at = at or timezone.now()
    row = _locked(term.agreement.case, version, actor,
                  statuses=(MediationStatus.AGREEMENT, MediationStatus.OPEN))
    term = Term.objects.select_related("agreement").get(pk=term.pk, agreement__case=row)
    if not agreement_in_effect(term.agreement):
        raise ValidationError(_("The agreement is not in effect yet."), code="not_in_effect")
    if term.checks.filter(result=Performance.PERFORMED).exists():
        raise ValidationError(_("This term is already performed."), code="performed")
    _check_check(term, check, row=row, at=at)
    made = TermCheck.objects.create(term=term, checked_on=check.checked_on, result=check.result,
                                    note=check.note.strip(), after_default=check.after_default,
                                    by=actor, at=at)
    _save(row, [])
    _event(row, EventKind.TERM_CHECKED, actor, at, term=term.pk, position=term.position,
           result=made.result, after_default=made.after_default,
           checked_on=made.checked_on.isoformat())
    if made.result == Performance.PERFORMED:
        dispute_clock_meet(owner=term, kind=ClockKind.PERFORMANCE, at=at, actor=actor)
        if not Term.objects.filter(agreement=term.agreement).exclude(
                checks__result=Performance.PERFORMED).exists():
            _end(row, MediationStatus.PERFORMED, note="", actor=actor, at=at, reason="performed")
        return made
    dispute_clock_cancel(owner=term, kind=ClockKind.PERFORMANCE, at=at, actor=actor)
    if made.after_default == AfterDefault.MEDIATE_AGAIN and row.status == MediationStatus.AGREEMENT:
        _reopen(row, term=term, actor=actor, at=at)
    return made


def _check_check(term: Term, check: CheckInput, *, row: MediationCase, at: datetime) -> None:
    if check.result not in Performance.values:
        raise ValidationError({"result": _("Choose performed, partly performed or not "
                                           "performed.")})
    _day_checked(check.checked_on, row=row, at=at, name="checked_on",
                 not_before=term.agreement.signed_on)
    if check.result == Performance.PERFORMED:
        if check.after_default:
            raise ValidationError({"after_default": _("A term performed needs no further "
                                                      "step.")})
        return
    errors = {}
    if check.checked_on < term.due_on:
        errors["checked_on"] = _("The term is due on %(day)s; it is not in default before "
                                 "then.") % {"day": term.due_on.isoformat()}
    if check.after_default not in AfterDefault.values:
        errors["after_default"] = _("Choose: mediate again, or point the parties to the court.")
    if not (check.note or "").strip():
        errors["note"] = _("Say what was and was not done.")
    if errors:
        raise ValidationError(errors)


def _reopen(row: MediationCase, *, term: Term, actor: User, at: datetime) -> None:
    """Mediate again over a term in default: the case is open again, with a new MEDIATION
    clock; the agreement stays in effect meanwhile (M30)."""
    row.status, row.concluded_at = MediationStatus.OPEN, None
    _save(row, ["status", "concluded_at"])
    dispute_clock_start(owner=row, kind=ClockKind.MEDIATION, start=at, at=at, actor=actor)
    _event(row, EventKind.OPENED, actor, at, reopened=True, term=term.pk)


