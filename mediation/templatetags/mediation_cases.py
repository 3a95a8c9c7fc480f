"""What the petition case page asks of mediation (templates/mediation/_case_link.html): the
case's mediations this user may see, and whether the user may send the case to mediation."""

from dataclasses import dataclass

from django import template

from accounts.permissions import Action, can

register = template.Library()


@dataclass(frozen=True)
class CaseMediation:
    mediation: object
    linked: bool  # the user may open the mediation's page (MEDIATION_VIEW)
    agreement: object  # its agreement, or None


@register.simple_tag
def case_mediations(user, case) -> list[CaseMediation]:
    """The mediations of ``case`` the user sees: those they may open (MEDIATION_VIEW), and all
    of them for the unit that sends the case (CASE_SEND_TO_MEDIATION; M28)."""
    from mediation.models import Agreement

    rows = list(case.mediations.select_related("committee__unit").order_by("opened_at", "pk"))
    if not rows:
        return []
    sender = can(user, Action.CASE_SEND_TO_MEDIATION, case)
    agreements = {a.case_id: a for a in Agreement.objects.filter(case__in=rows)}
    found = []
    for row in rows:
        linked = can(user, Action.MEDIATION_VIEW, row)
        if linked or sender:
            found.append(CaseMediation(mediation=row, linked=linked,
                                       agreement=agreements.get(row.pk)))
    return found


@register.simple_tag
def case_sendable(user, case) -> bool:
    """The user may send the case to mediation now: its handling is open, no mediation of it
    is (M27)."""
    from mediation.mediations import SENDABLE_STATUSES
    from mediation.models import MediationStatus

    return (case.status in SENDABLE_STATUSES
            and can(user, Action.CASE_SEND_TO_MEDIATION, case)
            and not case.mediations.filter(status=MediationStatus.OPEN).exists())
