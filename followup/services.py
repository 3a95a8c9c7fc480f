"""The petitioner's self-service: the lookup with its lock-out, the rating, the code reissued.

The lookup costs the same whether the number exists or not: the case is looked up, the code
compared in constant time (against a dummy code when there is no case), one attempt row
written. A wrong number and a wrong code are the same answer (followup/DECISIONS.md Q3).
"""

from __future__ import annotations

import hmac
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import Action, can
from cases import events
from cases.models import Case, Decision
from cases.services.registration import QUERY_CODE_LENGTH, query_code_new

from .models import MAX_COMMENT, QueryAttempt, Rating, Satisfaction, Source

logger = logging.getLogger(__name__)

# Compared against when no case has the number, so both answers cost one comparison.
_DUMMY_CODE = "Z" * QUERY_CODE_LENGTH
_SEPARATORS = re.compile(r"[\s\-‐-―－]+")


def number_normalise(raw: str) -> str:
    """A case number as typed, in one form: full-width to ASCII, no spaces, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


def code_normalise(raw: str) -> str:
    """A query code in one form: full-width to ASCII, upper case, no spaces or dashes."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")).upper()


def code_digest(code: str) -> str:
    """A keyed digest of a code, so a session can tell the code it was opened with from a
    newer one without holding the code itself."""
    return salted_hmac("followup.query-code", code_normalise(code)).hexdigest()


@dataclass(frozen=True)
class Lookup:
    case: Case | None  # the case, when number and code matched and nothing was locked
    locked: bool  # the number or the address is locked: refused unchecked


def case_query(*, number: str, code: str, address: str | None,
               now: datetime | None = None) -> Lookup:
    """Open the case numbered ``number`` with its query code; log the attempt, and refuse
    a number or an address with too many wrong codes lately (R22 Art.21; DECISIONS Q3)."""
    now = now or timezone.now()
    number = number_normalise(number)
    with transaction.atomic():
        # One lookup of a number, and one from an address, at a time: parallel guesses
        # cannot overrun either limit. Always in this order, so two lookups never deadlock.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["followup:" + number])
            if address is not None:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                               ["followup-address:" + address])
        locked = query_locked(number=number, address=address, now=now)
        case = Case.objects.filter(number=number).first()
        expected = case.query_code if case is not None else _DUMMY_CODE
        matches = hmac.compare_digest(code_normalise(code).encode(),
                                      code_normalise(expected).encode())
        ok = matches and case is not None and not locked
        QueryAttempt.objects.create(number=number[:40], address=address, at=now, ok=ok,
                                    locked=locked)
    if locked:
        logger.warning("Public query refused while locked: case number %r, address %s",
                       number, address)
    elif not ok and query_locked(number=number, address=address, now=now):
        logger.warning("Public query locked after repeated wrong codes: case number %r, "
                       "address %s", number, address)
    return Lookup(case=case if ok else None, locked=locked)


def query_locked(*, number: str, address: str | None, now: datetime) -> bool:
    """Whether the number or the address reached its limit of wrong codes in the window."""
    since = now - timedelta(minutes=settings.QUERY_LOCK_MINUTES)
    failures = QueryAttempt.objects.filter(ok=False, locked=False, at__gt=since)
    if failures.filter(number=number).count() >= settings.QUERY_FAILURE_LIMIT:
        return True
    return (address is not None and failures.filter(address=address).count()
            >= settings.QUERY_ADDRESS_FAILURE_LIMIT)


def case_verified(*, case_id: int, digest: str) -> Case | None:
    """The case a lookup opened, while its query code is still the one it was opened with."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or not hmac.compare_digest(code_digest(case.query_code), digest):
        return None
    return case


def delivered_decisions(case: Case):
    """The case's written decisions that reached the petitioner (送达 recorded)."""
    return Decision.objects.filter(case=case, delivered_on__isnull=False)


@transaction.atomic
def satisfaction_rate_by_petitioner(*, case: Case, rating: str, comment: str = "",
                                    at: datetime | None = None) -> Satisfaction:
    """Record the petitioner's own rating, once per case, once a written decision reached
    them (SAT14 Art.3; R22 Art.21 评价; followup/DECISIONS.md Q4)."""
    at = at or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not delivered_decisions(case).exists():
        raise ValidationError(_("The handling can be rated once a written reply has reached "
                                "you."), code="no_reply")
    comment = (comment or "").strip()
    _check_rating(rating=rating, comment=comment)
    try:
        with transaction.atomic():
            row = Satisfaction.objects.create(case=case, source=Source.PETITIONER,
                                              rating=rating, comment=comment, at=at)
    except IntegrityError:
        raise ValidationError(_("This case has already been rated. Thank you."),
                              code="already_rated") from None
    events.record(events.petitioner_rated(case=case, at=at, satisfaction=row.pk,
                                          rating=rating, comment=comment))
    return row


def _check_rating(*, rating: str, comment: str) -> None:
    if rating not in Rating.values:
        raise ValidationError(_("Choose satisfied, basically satisfied or dissatisfied."),
                              code="rating")
    if len(comment) > MAX_COMMENT:
        raise ValidationError(_("Keep the comment to %(max)d characters."), code="comment",
                              params={"max": MAX_COMMENT})
    if rating == Rating.DISSATISFIED and not comment:
        raise ValidationError(_("Say what you are dissatisfied with, so it can be looked "
                                "at again."), code="comment")


@transaction.atomic
def query_code_reissue(*, case: Case, actor: User, at: datetime | None = None) -> str:
    """Give the case a new query code; the old one stops working at once (DECISIONS Q5).
    Returns the new code, to be shown once; the trail records the reissue, not the code."""
    if not can(actor, Action.CASE_REISSUE_QUERY_CODE, case):
        raise PermissionDenied(_("Query codes are reissued by the petition office that "
                                 "registered the case."))
    at = at or timezone.now()
    old = Case.objects.select_for_update().values_list("query_code", flat=True).get(pk=case.pk)
    new = query_code_new()
    while new == old:  # one chance in 31^8; never hand back the code being replaced
        new = query_code_new()
    Case.objects.filter(pk=case.pk).update(query_code=new, updated_at=at)
    case.query_code = new
    events.record(events.query_code_reissued(case=case, actor=actor, at=at))
    return new
