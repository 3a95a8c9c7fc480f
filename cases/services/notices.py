"""Printable notices (issue 7): which may be printed now, their numbers, and what they say.

A notice gets its number the first time it is printed, drawn per issuing county,
kind and year from a sequence row (the upsert that numbers cases, ``sequence_next``),
and keeps it: printing again shows the same number. A written decision's notice
belongs to that decision, so a later decision of the same kind gets a new one.
Every print, the first and each reprint, is an event on the case. Looking at a
notice (``notice_preview``) writes nothing: a browser's prefetch or a reload never
numbers a notice or logs a print.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from accounts.permissions import Action, can

from .. import events
from ..choices import CaseStatus, DecisionKind
from ..deadlines.clocks import OFFICE_TZ
from ..models import Case, Decision, Notice, NoticeKind, NoticeSequence
from .privacy import identity_masked_for, mask_name
from .registration import sequence_next

# The kind's word in the document number (清信访告〔2026〕12号): part of the number, not prose.
NUMBER_WORDS = {
    NoticeKind.ACCEPTANCE: "告", NoticeKind.NON_ACCEPTANCE: "不受", NoticeKind.ROUTING_SLIP: "交",
    NoticeKind.REPLY: "复", NoticeKind.REVIEW: "查", NoticeKind.REREVIEW: "核",
}
DECISION_KINDS = {
    NoticeKind.REPLY: DecisionKind.REPLY, NoticeKind.REVIEW: DecisionKind.REVIEW,
    NoticeKind.REREVIEW: DecisionKind.REREVIEW,
}
# The states a case is in once its lead unit accepted it (R22 Art.23).
_ACCEPTED_STATES = {
    CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING, CaseStatus.REPLIED, CaseStatus.REVIEW_REQUESTED,
    CaseStatus.REVIEWED, CaseStatus.REREVIEW_REQUESTED, CaseStatus.FINAL, CaseStatus.CLOSED,
}


@transaction.atomic
def notice_print(*, case: Case, actor: User, kind: str, at: datetime | None = None) -> Notice:
    """Print a notice of ``case``: number it the first time, keep the number, log each print.

    Notices go to the petitioner, so they are printed by those who deal with the petitioner
    (``CASE_VIEW_IDENTITY``: the office, the lead unit, the leader in charge); others who
    see the case may look at a notice, masked, but not issue it.
    """
    if not can(actor, Action.CASE_VIEW, case):
        raise PermissionDenied(_("You may not see this case."))
    if not notice_may_print(user=actor, case=case):
        raise PermissionDenied(_("Notices to the petitioner are printed by the petition office "
                                 "or the unit handling the case."))
    decision = _printable_or_refuse(case=case, kind=kind)
    at = at or timezone.now()
    Case.objects.select_for_update().filter(pk=case.pk).first()  # one first print at a time
    notice = Notice.objects.filter(case=case, kind=kind, decision=decision).first()
    first = notice is None
    if first:
        notice = _issue(case=case, kind=kind, decision=decision, actor=actor, at=at)
    events.record(events.notice_printed(case=case, actor=actor, at=at, notice=notice,
                                        first=first))
    return notice


def notice_preview(*, case: Case, user: User, kind: str,
                   at: datetime | None = None) -> Notice:
    """The notice as it prints: the numbered one when it was printed before, else an unsaved
    one without a number (the page says it is numbered when printed). Writes nothing."""
    if not can(user, Action.CASE_VIEW, case):
        raise PermissionDenied(_("You may not see this case."))
    decision = _printable_or_refuse(case=case, kind=kind)
    notice = Notice.objects.filter(case=case, kind=kind, decision=decision).first()
    if notice is not None:
        return notice
    return Notice(case=case, kind=kind, decision=decision, number="", issued_by=user,
                  issued_at=at or timezone.now())


def notices_printable(*, user: User, case: Case) -> list[tuple[str, str]]:
    """The notices ``user`` may print for ``case`` now, as (kind, label), in the kinds' order."""
    if not can(user, Action.CASE_VIEW, case):
        return []
    decided = set(Decision.objects.filter(case=case, superseded_at__isnull=True)
                  .values_list("kind", flat=True))
    return [(kind.value, str(kind.label)) for kind in NoticeKind
            if _refusal(case=case, kind=kind, decided=decided) is None]


def _printable_or_refuse(*, case: Case, kind: str) -> Decision | None:
    """The decision the notice states (None for the others), or a refusal saying why not."""
    if kind not in NoticeKind.values:
        raise ValidationError(_("There is no notice called “%(kind)s”."), code="notice_kind",
                              params={"kind": kind})
    decision = None
    if kind in DECISION_KINDS:
        decision = (Decision.objects.filter(case=case, kind=DECISION_KINDS[kind],
                                            superseded_at__isnull=True)
                    .select_related("unit").first())
    refusal = _refusal(case=case, kind=kind,
                       decided={decision.kind} if decision is not None else set())
    if refusal is not None:
        raise ValidationError(refusal, code="notice_not_printable")
    return decision


def _refusal(*, case: Case, kind: str, decided: set[str]) -> str | None:
    """Why ``kind`` cannot be printed for the case in its state; None when it can."""
    label = NoticeKind(kind).label
    if kind == NoticeKind.ACCEPTANCE:
        if case.no_notice_reason:
            return str(_("No notice of acceptance is due: the petitioner's name or address is "
                         "unclear (Regulations on Letters and Visits Work, Art. 23)."))
        if case.status not in _ACCEPTED_STATES:
            return str(_("The notice of acceptance can be printed once the lead unit has "
                         "accepted the case."))
    elif kind == NoticeKind.NON_ACCEPTANCE:
        if case.status != CaseStatus.NOT_ACCEPTED:
            return str(_("The notice of non-acceptance can be printed only for a case that "
                         "was not accepted."))
    elif kind == NoticeKind.ROUTING_SLIP:
        if case.lead_unit_id is None or case.status == CaseStatus.REGISTERED:
            return str(_("The routing slip can be printed once the case is routed to a unit."))
    elif DECISION_KINDS[kind] not in decided:
        return str(_("The %(notice)s can be printed once that decision has been issued.")
                   % {"notice": label})
    return None


def _issue(*, case: Case, kind: str, decision: Decision | None, actor: User,
           at: datetime) -> Notice:
    """Draw the next number of the case's county, the kind and the year, and keep it."""
    county = OrgUnit.objects.get(path=case.registered_unit.county_path)
    year = at.astimezone(OFFICE_TZ).year
    seq = sequence_next(NoticeSequence, county_id=county.pk, kind=kind, year=year)
    number = f"{county.name[:1]}信访{NUMBER_WORDS[kind]}〔{year}〕{seq}号"
    return Notice.objects.create(case=case, kind=kind, decision=decision, county=county,
                                 year=year, seq=seq, number=number, issued_by=actor,
                                 issued_at=at)


def notice_addressee(*, user: User, case: Case) -> str:
    """The main petitioner's name as the notice names them; masked for whoever sees it
    masked on the case page (``identity_masked_for``: R22 Art.30, 46; cases/DECISIONS.md)."""
    party = case.parties.select_related("petitioner").filter(is_main=True).first()
    if party is None:
        return ""
    name = party.petitioner.name
    return mask_name(name) if identity_masked_for(user=user, case=case) else name


def notice_may_print(*, user: User, case: Case) -> bool:
    """Whether ``user`` issues the case's notices: one who sees the petitioner unmasked."""
    return not identity_masked_for(user=user, case=case)


def notice_may_show_query_code(*, user: User, case: Case) -> bool:
    """The query code is the petitioner's key to the public lookup: shown to the same people
    who issue the notices, as the case page shows it only to those who see the petitioner."""
    return notice_may_print(user=user, case=case)
