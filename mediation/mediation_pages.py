"""The mediation pages' reads (mediation/DECISIONS.md M32-M35): the lists a user sees,
the numbers per committee and year, one case's page with its parties (masked where the
user may not see them), terms, clocks and trail, the mediator's home, and the parties as
the printed documents name them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case as SqlCase
from django.db.models import Count, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import Action, can, scope
from cases.choices import ClockKind, ClockStatus
from cases.deadlines.clocks import OFFICE_TZ, office_calendar
from cases.services.undertakings import office_today

from .mediations import (
    _agreement,
    _event,
    agreement_in_effect,
    committees_workable,
)
from .models import (
    Agreement,
    AgreementForm,
    Committee,
    DisputeClock,
    EventKind,
    MediationCase,
    MediationEvent,
    MediationKind,
    MediationParty,
    MediationStatus,
    Meeting,
    Performance,
    Term,
    TermCheck,
)

# --- Reads --------------------------------------------------------------------------------

def mediations_visible(*, user: User) -> QuerySet[MediationCase]:
    """The mediation cases ``user`` sees (M2): their committees' and those below."""
    rows = MediationCase.objects.select_related("committee")
    return scope(user, Action.MEDIATION_VIEW, rows)


def mediations_filtered(*, user: User, status: str = "", committee: int | None = None,
                        kind: str = "") -> QuerySet[MediationCase]:
    """The list page: open first, then the newest; filtered by status, committee, kind."""
    rows = mediations_visible(user=user)
    if status:
        rows = rows.filter(status=status)
    if committee:
        rows = rows.filter(committee_id=committee)
    if kind:
        rows = rows.filter(kind=kind)
    open_first = SqlCase(When(status=MediationStatus.OPEN, then=Value(0)), default=Value(1))
    return rows.alias(open_first=open_first).order_by("open_first", "-opened_at", "-pk")


def mediation_numbers(*, user: User, year: int) -> list[dict]:
    """Per committee, the cases opened in ``year`` and where they stand now: agreements
    (in effect), no agreement, withdrawn, performed, open (M32); one aggregate query. Each
    case counts once by its status: one reopened over a term in default is open, not also
    an agreement, whose agreement stays in effect meanwhile (M30)."""
    in_effect = (Q(agreement__form=AgreementForm.ORAL)
                 | Q(agreement__parties_signed=True, agreement__mediator_signed=True,
                     agreement__sealed=True))
    in_effect &= Q(status__in=(MediationStatus.AGREEMENT, MediationStatus.PERFORMED))
    start = datetime(year, 1, 1, tzinfo=OFFICE_TZ)
    rows = (scope(user, Action.MEDIATION_VIEW, MediationCase.objects.all())
            .filter(opened_at__gte=start, opened_at__lt=start.replace(year=year + 1))
            .values("committee_id", "committee__name", "committee__code")
            .annotate(opened=Count("pk"), agreements=Count("pk", filter=in_effect),
                      no_agreement=Count("pk", filter=Q(status=MediationStatus.NO_AGREEMENT)),
                      withdrawn=Count("pk", filter=Q(status=MediationStatus.WITHDRAWN)),
                      performed=Count("pk", filter=Q(status=MediationStatus.PERFORMED)),
                      still_open=Count("pk", filter=Q(status=MediationStatus.OPEN)))
            .order_by("committee__code"))
    return list(rows)


# --- The pages' reads -------------------------------------------------------------------

@dataclass(frozen=True)
class PartyRow:
    """A party as one user sees it on the page: the ID number always masked there; the name
    and phone too, unless the user works the case (M33)."""

    party: MediationParty
    name: str
    id_number: str
    phone: str
    masked: bool


@dataclass(frozen=True)
class TermRow:
    term: Term
    obligor: str
    checks: list[TermCheck]
    performed: bool
    clock: Any  # its running PERFORMANCE clock: an escalation.ClockRow, or None


@dataclass(frozen=True)
class TrailRow:
    event: MediationEvent
    label: str
    text: str


@dataclass(frozen=True)
class MediationPage:
    case: MediationCase
    may_act: bool
    parties: list[PartyRow]
    mediators: list[User]
    meetings: list[tuple[Meeting, Meeting | None]]  # each with the one it corrects (M22)
    agreement: Agreement | None
    in_effect: bool
    terms: list[TermRow]
    clocks: Any  # mediation.escalation.ClockPanel, for the "mediation/_clocks.html" panel
    window: Any  # the court-confirmation window's ClockRow, running or last; or None
    trail: list[TrailRow]

    @property
    def consent_needed(self) -> bool:
        return (self.case.kind == MediationKind.ADMINISTRATIVE
                and any(row.party.consents is not True for row in self.parties))

    @property
    def reopened(self) -> bool:
        return self.in_effect and self.case.status == MediationStatus.OPEN


def party_name(party: MediationParty) -> str:
    return party.petitioner.name if party.petitioner_id else party.organisation


def _party_row(party: MediationParty, *, masked: bool) -> PartyRow:
    from cases.services.privacy import mask_name, mask_phone

    person = party.petitioner
    if person is None:
        return PartyRow(party=party, name=party.organisation, id_number="", phone="",
                        masked=False)
    return PartyRow(party=party, name=mask_name(person.name) if masked else person.name,
                    id_number=person.masked_id_number,
                    phone=mask_phone(person.phone) if masked else person.phone, masked=masked)


def mediation_page(*, user: User, mediation: MediationCase,
                   now: datetime | None = None) -> MediationPage:
    """Everything the case page shows, in a fixed number of queries."""
    from .escalation import dispute_clocks_panel

    case = mediation
    may_act = can(user, Action.MEDIATION_ACT, case)
    parties = list(case.parties.select_related("petitioner").order_by("side", "pk"))
    party_rows = [_party_row(p, masked=not may_act) for p in parties]
    agreement = _agreement(case)
    panel = dispute_clocks_panel(case, now=now)
    rows = panel.rows
    meetings = list(case.meetings.select_related("recorded_by").order_by("held_on", "pk"))
    trail = list(case.events.select_related("actor").order_by("at", "pk"))
    by_pk = {meeting.pk: meeting for meeting in meetings}
    corrects = {e.details["meeting"]: by_pk.get(e.details["corrects"]) for e in trail
                if e.kind == EventKind.MEETING and e.details.get("corrects")}
    windows = [row for row in rows if row.clock.kind == ClockKind.CONFIRMATION]
    return MediationPage(
        case=case, may_act=may_act,
        parties=party_rows,
        mediators=list(case.mediators.order_by("name", "pk")),
        meetings=[(meeting, corrects.get(meeting.pk)) for meeting in meetings],
        agreement=agreement, in_effect=agreement_in_effect(agreement),
        terms=_term_rows(agreement, party_rows, rows), clocks=panel,
        window=windows[-1] if windows else None, trail=[_trail_row(e) for e in trail])


def _term_rows(agreement: Agreement | None, parties: list[PartyRow], clocks) -> list[TermRow]:
    """The agreement's terms, each party bound named as the parties' list names them: masked
    for those who oversee the case (M33)."""
    if agreement is None:
        return []
    names = {row.party.pk: row.name for row in parties}
    live = {row.clock.term_id: row for row in clocks
            if row.clock.term_id and row.clock.status in (ClockStatus.OPEN, ClockStatus.PAUSED)}
    checks: dict[int, list[TermCheck]] = {}
    for check in (TermCheck.objects.filter(term__agreement=agreement).select_related("by")
                  .order_by("checked_on", "pk")):
        checks.setdefault(check.term_id, []).append(check)
    return [TermRow(term=term, obligor=names.get(term.obligor_id, ""),
                    checks=checks.get(term.pk, []),
                    performed=any(c.result == Performance.PERFORMED
                                  for c in checks.get(term.pk, [])),
                    clock=live.get(term.pk))
            for term in agreement.terms.order_by("position")]


def _trail_row(event: MediationEvent) -> TrailRow:
    """One line of the trail: what happened, in words, with the values that matter."""
    d = event.details
    label = dict(EventKind.choices).get(event.kind, event.kind)
    if event.kind == EventKind.CONCLUDED:
        text = dict(MediationStatus.choices).get(d.get("status"), "")
    elif event.kind == EventKind.TERM_CHECKED:
        text = _("Term %(n)s: %(result)s") % {
            "n": d.get("position"), "result": dict(Performance.choices).get(d.get("result"), "")}
    elif event.kind == EventKind.CLOCK:
        action = dict(ClockStatus.choices).get(d.get("action")) or _("started")
        text = (f"{dict(ClockKind.choices).get(d.get('kind'), '')} · {action} · "
                f"{d.get('due_on', '')}")
    elif event.kind == EventKind.CONSENT:
        text = _("consents") if d.get("consents") else _("refuses")
    elif event.kind == EventKind.OPENED and d.get("reopened"):
        text = _("Opened again over a term not performed")
    else:
        text = d.get("number") or d.get("held_on") or d.get("signed_on") or ""
    return TrailRow(event=event, label=str(label), text=str(text))


@dataclass(frozen=True)
class HomeData:
    open_cases: list[tuple[MediationCase, Any]]  # (case, NextDeadline or None), overdue first
    terms_due: list[tuple[Term, Any]]
    windows: list[tuple[MediationCase, DisputeClock]]
    committees: list[Committee]


def mediation_home(*, user: User, now: datetime | None = None, limit: int = 100) -> HomeData:
    """The mediator's landing page: their committees' open cases, overdue first; the terms
    due within a week or overdue; the court-confirmation windows running."""
    from cases.filters import due_soon_cutoff
    from cases.selectors.lists import deadline_standing

    now = now or timezone.now()
    calendar, today = office_calendar(), office_today(now)
    cutoff = due_soon_cutoff(now=now, calendar=calendar)
    cases = scope(user, Action.MEDIATION_ACT, MediationCase.objects.all())
    live = (ClockStatus.OPEN, ClockStatus.PAUSED)
    clocks = (DisputeClock.objects.filter(status__in=live).order_by("due_at", "pk"))
    opened = list(cases.filter(status=MediationStatus.OPEN).select_related("committee")
                  .order_by("opened_at")[:limit])
    due = {c.mediation_id: c for c in clocks.filter(mediation__in=[c.pk for c in opened],
                                                    kind=ClockKind.MEDIATION)}

    def standing(clock):
        return None if clock is None else deadline_standing(clock, now, today, cutoff, calendar)

    last = datetime.max.replace(tzinfo=OFFICE_TZ)  # a case without a running clock: last
    rows = sorted(((case, standing(due.get(case.pk))) for case in opened),
                  key=lambda pair: due[pair[0].pk].due_at if pair[0].pk in due else last)
    week = today.toordinal() + 7
    terms = [(clock.term, standing(clock)) for clock in clocks.filter(
        kind=ClockKind.PERFORMANCE, term__agreement__case__in=cases)
        .select_related("term__agreement__case")[:limit] if clock.due_on.toordinal() <= week]
    windows = [(clock.mediation, clock) for clock in clocks.filter(
        kind=ClockKind.CONFIRMATION, mediation__in=cases, due_at__gt=now)
        .select_related("mediation")[:limit]]
    return HomeData(open_cases=rows, terms_due=terms, windows=windows,
                    committees=committees_workable(user=user))


def document_parties(*, user: User, mediation: MediationCase,
                     at: datetime | None = None) -> list[MediationParty]:
    """The parties as a document printed for signing names them in full (PML Art.29); only
    for those who work the case, and each printing is on the trail as a view of personal
    data (M33)."""
    if not can(user, Action.MEDIATION_ACT, mediation):
        raise PermissionDenied(_("Documents for the parties to sign are printed by the "
                                 "mediators."))
    parties = list(mediation.parties.select_related("petitioner").order_by("side", "pk"))
    people = [p.petitioner_id for p in parties if p.petitioner_id]
    if people:
        _event(mediation, EventKind.VIEWED, user, at or timezone.now(), petitioners=people)
    return parties

