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
admin_user = _named("admin")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Put back the reference rows that migrations seed.

    Transactional tests (browser, real worker) end by truncating every table; with
    --reuse-db the next session would start without the statutory clock rules and the
    escalation ladder.
    """
    from cases.deadlines.ladder import ladder_seed
    from cases.deadlines.rules import rules_seed
    from cases.models import DeadlineRule, LadderStep

    with django_db_blocker.unblock():
        rules_seed(DeadlineRule)
        ladder_seed(LadderStep)


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
