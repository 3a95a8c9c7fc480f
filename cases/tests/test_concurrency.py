"""Two users act on the same case at the same moment, on two real database connections.

The other tests prove the rule with stale copies; this one lets PostgreSQL decide
a real race: the first UPDATE locks the row, the second waits, finds the status
changed and is refused with a clear error. Nothing of the loser is saved.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cases.choices import CaseStatus, ClockKind, EventKind
from cases.deadlines.rules import rules_seed
from cases.models import Case, CaseEvent, DeadlineRule
from cases.services.errors import CaseChangedByOther
from cases.services.transitions import case_request_return, case_sign
from cases.tests.factories import CaseFactory, DeadlineFactory, demo_unit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def routed_case(demo_users):
    # Transactional tests truncate tables, the migration-seeded clock rules included.
    rules_seed(DeadlineRule)
    case = CaseFactory(status=CaseStatus.ROUTED, lead_unit=demo_unit("341122100"),
                       place_unit=demo_unit("341122100"))
    DeadlineFactory(case=case, kind=ClockKind.OBJECTION, due_at=timezone.now() + timedelta(days=5))
    return case


def test_sign_and_return_at_once_one_wins_the_other_is_told(routed_case, handler, head):
    # given two users who both loaded the routed case
    ready = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name, service, user, **extra):
        try:
            case = Case.objects.get(pk=routed_case.pk)
            ready.wait(timeout=10)
            service(case=case, actor=user, **extra)
            outcomes[name] = "done"
        except CaseChangedByOther:
            outcomes[name] = "refused"
        finally:
            connection.close()

    # when they sign for it and ask to return it at the same time
    threads = [
        threading.Thread(target=act, args=("sign", case_sign, handler)),
        threading.Thread(target=act, args=("return", case_request_return, head),
                         kwargs={"reason": "不属于本单位职责"}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then exactly one went through, the other got the clear error, and the record agrees
    assert sorted(outcomes.values()) == ["done", "refused"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "done")
    routed_case.refresh_from_db()
    expected = CaseStatus.SIGNED if winner == "sign" else CaseStatus.RETURN_REQUESTED
    assert routed_case.status == expected
    transitions = CaseEvent.objects.filter(case=routed_case, kind=EventKind.TRANSITION)
    assert [event.to_status for event in transitions] == [expected]
    assert routed_case.return_reason == ("" if winner == "sign" else "不属于本单位职责")
