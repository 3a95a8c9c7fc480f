"""Commitments made to the petitioner and leaders' instructions (批示): each a clock of its
own, open until the lead unit records how it was kept or answers it in words
(cases/DECISIONS.md, "Commitments and leaders' instructions").

Each service is atomic, locks the row it changes (the case when a row is added to it),
asks the permission module and writes one audit row. Keeping a commitment or answering
an instruction is allowed in any state of the case: a promise kept or an instruction
answered after the case closed is still recorded, never left open on the sweep.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import Action, can

from .. import events
from ..choices import CaseStatus
from ..deadlines.calendar import Unit
from ..deadlines.clocks import OFFICE_TZ, office_calendar
from ..models import Case, Commitment, Instruction
from ..models.undertakings import OwnClock
from .errors import required

# The states in which the lead unit makes commitments: from acceptance, while the reply is
# due (the states the ``reply`` transition leaves from), and once replied, since a reply that
# supports the request is itself carried out by promises (R22 Art.32-33). Not before the
# unit has accepted the matter (it may still be returned), not while the level above holds
# it for review, and not once it is over.
COMMITMENT_STATES = frozenset({CaseStatus.ACCEPTED, CaseStatus.IN_HANDLING, CaseStatus.REPLIED})

# No law sets the answer period of an instruction; the form proposes this (DECISIONS.md).
INSTRUCTION_WORKING_DAYS = 5


def due_at_of(due_on: date) -> datetime:
    """The instant a commitment or instruction falls due: 24:00 of ``due_on``, office time.

    The day is a promise or a leader's choice, not a statutory period, so no rest-day
    rule moves it.
    """
    return datetime.combine(due_on + timedelta(days=1), time.min, tzinfo=OFFICE_TZ)


def office_today(at: datetime | None = None) -> date:
    """The office's day at ``at`` (Asia/Shanghai), whatever the server's zone."""
    return timezone.localtime(at or timezone.now(), OFFICE_TZ).date()


def instruction_due_proposed(*, at: datetime | None = None) -> date:
    """The answer day an instruction's form proposes: 5 working days after today."""
    return office_calendar().due_date(office_today(at), INSTRUCTION_WORKING_DAYS,
                                      Unit.WORKING).due


# A promise or an instruction is for the months ahead; a day beyond this is a typing slip
# (2206 for 2026), which would also fall outside the calendar the clocks count on.
HORIZON_DAYS = 366


def _check_day(due_on: date | None, at: datetime) -> date:
    if due_on is None:
        raise ValidationError(_("Give the day."), code="due_on")
    today = office_today(at)
    if due_on < today:
        raise ValidationError(_("The day cannot be in the past."), code="due_on")
    if due_on > today + timedelta(days=HORIZON_DAYS):
        raise ValidationError(_("The day must be within a year from today; check the year."),
                              code="due_on")
    return due_on


def _lock(case: Case) -> Case:
    """Lock the case while a row is added to it: a step moving it on waits, then sees the row."""
    return Case.objects.select_for_update().only("status", "lead_unit_id").get(pk=case.pk)


# --- Commitments ------------------------------------------------------------------------

@transaction.atomic
def commitment_make(*, case: Case, actor: User, text: str, due_on: date,
                    at: datetime | None = None) -> Commitment:
    """Record what the lead unit promised the petitioner and by when, while it handles the
    case (``COMMITMENT_STATES``: accepted, in handling, replied)."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_COMMIT, case):
        raise PermissionDenied(_("Only the unit handling case %(number)s may record a "
                                 "commitment on it.") % {"number": case.number})
    if _lock(case).status not in COMMITMENT_STATES:
        raise ValidationError(_("A commitment can be recorded only while the case is handled: "
                                "from acceptance until it is replied to."), code="state")
    text = required(text, _("Write down what was promised."))
    due_on = _check_day(due_on, at)
    commitment = Commitment.objects.create(case=case, text=text, due_on=due_on,
                                           due_at=due_at_of(due_on), made_by=actor, made_at=at)
    events.record(events.commitment_made(case=case, actor=actor, at=at, row=commitment))
    return commitment


@transaction.atomic
def commitment_keep(*, commitment: Commitment, actor: User, note: str,
                    at: datetime | None = None) -> Commitment:
    """Record once how a commitment was kept; after its day it is kept late, never refused."""
    at = at or timezone.now()
    commitment = (Commitment.objects.select_for_update(of=("self",)).select_related("case")
                  .get(pk=commitment.pk))
    case = commitment.case
    if not can(actor, Action.CASE_COMMIT, case):
        raise PermissionDenied(_("Only the unit handling case %(number)s may record that a "
                                 "commitment was kept.") % {"number": case.number})
    _check_open(commitment, _("This commitment was already recorded as kept on %(day)s by "
                              "%(name)s."), code="kept")
    commitment.kept_note = required(note, _("Say how the commitment was kept."))
    commitment.done_at, commitment.done_by = at, actor
    commitment.save(update_fields=["kept_note", "done_at", "done_by"])
    events.record(events.commitment_kept(case=case, actor=actor, at=at, row=commitment))
    return commitment


def _check_open(row: OwnClock, message, *, code: str) -> None:
    """Refuse a second keep or answer, naming who did it first and when."""
    if row.is_open:
        return
    raise ValidationError(message, code=code, params={
        "day": office_today(row.done_at).isoformat(),
        "name": row.done_by.display_name if row.done_by else ""})


# --- Leaders' instructions -------------------------------------------------------------------

@transaction.atomic
def instruction_give(*, case: Case, actor: User, text: str, due_on: date,
                     at: datetime | None = None) -> Instruction:
    """Record the instruction (批示) of the leader in charge and the day by which the lead
    unit answers it; only on an open case."""
    at = at or timezone.now()
    if not can(actor, Action.CASE_INSTRUCT, case):
        raise PermissionDenied(_("Only the leader in charge of case %(number)s may give an "
                                 "instruction on it.") % {"number": case.number})
    locked = _lock(case)
    if locked.status in Case.CLOSED_STATES:
        raise ValidationError(_("Case %(number)s is finished; an instruction can be given "
                                "only on an open case."), code="state",
                              params={"number": case.number})
    # The lead unit answers an instruction (CASE_ANSWER_INSTRUCTION): before the case is
    # routed there is no one to answer it, and an answer on the spot would leave it open.
    if locked.lead_unit_id is None:
        raise ValidationError(_("Case %(number)s has not been routed to a unit yet; an "
                                "instruction can be given once a unit handles it."),
                              code="state", params={"number": case.number})
    text = required(text, _("Write the instruction."))
    due_on = _check_day(due_on, at)
    instruction = Instruction.objects.create(case=case, text=text, due_on=due_on,
                                             due_at=due_at_of(due_on), given_by=actor,
                                             given_at=at)
    events.record(events.instruction_given(case=case, actor=actor, at=at, row=instruction))
    return instruction


@transaction.atomic
def instruction_answer(*, instruction: Instruction, actor: User, answer: str,
                       at: datetime | None = None) -> Instruction:
    """Answer a leader's instruction in words, once, as the lead unit; late answers count."""
    at = at or timezone.now()
    instruction = (Instruction.objects.select_for_update(of=("self",)).select_related("case")
                   .get(pk=instruction.pk))
    case = instruction.case
    if not can(actor, Action.CASE_ANSWER_INSTRUCTION, case):
        raise PermissionDenied(_("Only the unit handling case %(number)s may answer the "
                                 "leader's instruction.") % {"number": case.number})
    _check_open(instruction, _("This instruction was already answered on %(day)s by "
                               "%(name)s."), code="answered")
    instruction.answer = required(answer, _("Write the answer to the instruction."))
    instruction.done_at, instruction.done_by = at, actor
    instruction.save(update_fields=["answer", "done_at", "done_by"])
    events.record(events.instruction_answered(case=case, actor=actor, at=at, row=instruction))
    return instruction
