"""Login, role homes, lockout, idle timeout, language and password change."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import Action, can
from accounts.services import role_grant

pytestmark = pytest.mark.django_db

HOMES = {
    "clerk": "/cases/intake/",
    "handler": "/cases/unit/",
    "head": "/cases/unit/",
    "leader": "/cases/mine/",
    "supervisor": "/cases/overdue/",
    "grid": "/mediation/reports/",
    "mediator": "/mediation/",
    "admin": "/admin/",
}


def login(client, username, password="demo"):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.parametrize(("username", "home"), HOMES.items())
def test_each_role_lands_on_its_own_home(client, demo_users, username, home):
    # when the user signs in and follows the redirects
    response = login(client, username)
    landing = client.get(response["Location"], follow=True)
    # then they end on their role's page, which renders
    assert landing.redirect_chain[-1][0] == home
    assert landing.status_code == 200


@pytest.mark.parametrize("path", ["/cases/intake/", "/cases/overdue/", "/mediation/", "/admin/"])
def test_a_handler_is_refused_other_roles_pages(client, demo_users, path):
    login(client, "handler")
    response = client.get(path, follow=True)
    assert response.status_code == 403


def test_navigation_shows_only_what_the_role_may_open(client, demo_users):
    login(client, "clerk")
    page = client.get("/cases/intake/").content.decode()
    assert 'href="/cases/intake/"' in page
    assert 'href="/cases/overdue/"' not in page
    assert 'href="/admin/"' not in page


def test_the_longest_matching_entry_is_the_active_one(demo_users):
    from accounts.navigation import nav_items

    # given a clerk on the intake page, under both /cases/intake/ and /cases/
    items = nav_items(demo_users["clerk"], "/cases/intake/")
    # then only Intake is marked, and the case list is offered too
    assert [item.url for item in items if item.active] == ["/cases/intake/"]
    assert "/cases/" in [item.url for item in items]
    assert "/cases/" not in [item.url for item in nav_items(demo_users["grid"], "/")]


def test_a_township_clerk_is_not_offered_the_county_offices_grid_reports(demo_users, unit):
    from accounts.navigation import nav_items

    # given a clerk of the township's own petition desk, beside the county office's clerk
    township_clerk = User.objects.create_user("tclerk", password="x", name="镇接待")
    role_grant(user=township_clerk, role=Role.CLERK, unit=unit("341122100"))
    # then only the county office's clerk is offered the grid reports it registers (M1)
    assert "/mediation/reports/" in [item.url for item in nav_items(demo_users["clerk"])]
    assert "/mediation/reports/" not in [item.url for item in nav_items(township_clerk)]
    assert not can(township_clerk, Action.GRID_REPORT_REGISTER)


def test_pages_need_a_login(client, county):
    response = client.get("/cases/intake/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_interface_is_chinese_by_default_and_english_on_request(client, demo_users):
    # given the login page, never visited
    assert "登录" in client.get(reverse("login")).content.decode()
    # when the clerk signs in and switches to English
    login(client, "clerk")
    client.post(reverse("set_language"), {"language": "en", "next": "/cases/intake/"})
    # then the choice is remembered on the user, across sessions
    demo_users["clerk"].refresh_from_db()
    assert demo_users["clerk"].language == "en"
    client.logout()
    login(client, "clerk")
    assert "Intake" in client.get("/cases/intake/").content.decode()


def test_an_unknown_language_is_refused_with_a_message(client, demo_users):
    login(client, "clerk")
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"}, follow=True)
    assert response.status_code == 200
    demo_users["clerk"].refresh_from_db()
    assert demo_users["clerk"].language == "zh-hans"


def test_repeated_failures_lock_the_login(client, demo_users):
    # given the limit of wrong passwords
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "clerk", password="wrong")
    # when the right password comes next
    response = login(client, "clerk")
    # then the account is locked with a clear page, and no session is opened
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_gets_a_message_not_an_error(client, demo_users):
    response = login(client, "clerk", password="wrong")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_sessions_expire_after_idle_minutes():
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_password_change_applies_the_validators(client, demo_users):
    login(client, "clerk")
    weak = client.post(reverse("password_change"), {
        "old_password": "demo", "new_password1": "12345678", "new_password2": "12345678",
    })
    assert weak.status_code == 200  # the form again, with the validators' messages
    strong = client.post(reverse("password_change"), {
        "old_password": "demo", "new_password1": "Qinghe-2026-xf", "new_password2": "Qinghe-2026-xf",
    })
    assert strong.status_code == 302
    demo_users["clerk"].refresh_from_db()
    assert demo_users["clerk"].check_password("Qinghe-2026-xf")


def test_logout_ends_the_session(client, demo_users):
    login(client, "clerk")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/cases/intake/").status_code == 302


def test_administrator_sees_units_users_and_roles_in_admin(client, demo_users):
    login(client, "admin")
    for path in ("/admin/", "/admin/accounts/orgunit/", "/admin/accounts/user/",
                 "/admin/accounts/roleassignment/", "/admin/ops/heartbeat/"):
        assert client.get(path).status_code == 200, path
