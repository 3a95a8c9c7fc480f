"""Fixtures shared by every app's tests: the demo county and one user per role."""

import pytest

from accounts.demo import demo_org_seed, demo_users_seed
from accounts.models import OrgUnit, User


@pytest.fixture
def county(db) -> OrgUnit:
    return demo_org_seed()


@pytest.fixture
def unit(county):
    """Look up a demo unit by code: ``unit("341122100")``."""

    def get(code: str) -> OrgUnit:
        return OrgUnit.objects.get(code=code)

    return get


@pytest.fixture
def demo_users(county) -> dict[str, User]:
    demo_users_seed(password="demo")
    return {user.username: user for user in User.objects.all()}


@pytest.fixture
def committees(county):
    """The demo county's mediation committees, by their unit's code: ``committees["341122100"]``."""
    from mediation.demo import demo_committees_seed

    return {committee.unit.code: committee for committee in demo_committees_seed()}


def _named(username):
    @pytest.fixture
    def fixture(demo_users) -> User:
        return User.objects.get(username=username)

    return fixture


clerk = _named("clerk")
handler = _named("handler")
head = _named("head")
leader = _named("leader")
supervisor = _named("supervisor")
grid = _named("grid")
mediator = _named("mediator")
village_mediator = _named("village")
admin_user = _named("admin")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Put back the reference rows that migrations seed.

    Transactional tests (browser, real worker) end by truncating every table; with
    --reuse-db the next session would start without the statutory clock rules, the
    escalation ladder and the default follow-up rule.
    """
    from cases.deadlines.ladder import ladder_seed
    from cases.deadlines.rules import rules_seed
    from cases.models import DeadlineRule, LadderStep
    from followup.models import FollowUpRule
    from followup.rules import default_rule_seed

    with django_db_blocker.unblock():
        rules_seed(DeadlineRule)
        ladder_seed(LadderStep)
        default_rule_seed(FollowUpRule)


@pytest.fixture
def english():
    """Run a test in English, for tests that read a message's words rather than its code."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def admin_client_en(client, admin_user):
    """The demo administrator, signed in, working in English."""
    admin_user.language = "en"
    admin_user.save(update_fields=["language"])
    client.force_login(admin_user)
    return client


# Dead rows past which a table is vacuumed between tests (see the fixture below).
BLOAT_DEAD_ROWS = 20_000


@pytest.fixture(autouse=True)
def _vacuum_when_bloated(django_db_setup, django_db_blocker):
    """VACUUM (ANALYZE) the tables that earlier tests' rolled-back rows have bloated.

    Most tests roll their transaction back, which leaves every row they wrote behind as
    a dead tuple, and the bulk-seed and bench tests write thousands each. Autovacuum
    does not get to the test database while the suite runs, so on a fresh database
    (CI's every run) index scans wade through hundreds of thousands of dead entries:
    one bench test took over five minutes there and eight seconds on a clean one. This
    runs before the test's own transaction opens, so VACUUM may run; it costs one
    statistics query per test when nothing is bloated.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("SELECT quote_ident(relname) FROM pg_stat_user_tables "
                               "WHERE schemaname = 'public' AND n_dead_tup > %s",
                               [BLOAT_DEAD_ROWS])
                bloated = [name for (name,) in cursor.fetchall()]
                if bloated:
                    cursor.execute("VACUUM (ANALYZE) " + ", ".join(bloated))
    yield
