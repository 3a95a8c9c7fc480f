"""The second sign-in factor (issue 9), tried through the real pages: enrolment, the verify
step with an authenticator's code or a recovery code, the roles that must have it, and the
security administrator's reset, which nobody else may do.

Done when: a login without the second factor is refused where it is required.
"""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import otp
from accounts.models import User
from cases.tests.factories import CaseFactory
from config.settings.base import OTP_MANDATORY_ROLES

pytestmark = pytest.mark.django_db

ENROL, VERIFY, CODES, MANAGE = (reverse(name) for name in (
    "otp_enrol", "otp_verify", "otp_recovery_codes", "otp_manage"))


@pytest.fixture
def production_roles(settings):
    """What production requires: the three administrators, the supervisors, the superuser."""
    settings.OTP_REQUIRED_ROLES = list(OTP_MANDATORY_ROLES)
    settings.OTP_REQUIRED_FOR_SUPERUSER = True


def signed_in(user: User, *, language: str = "en") -> Client:
    """A client signed in with the password alone (no second factor yet)."""
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def enrol(user: User) -> tuple[TOTPDevice, list[str]]:
    """Give ``user`` an authenticator and recovery codes, as a finished enrolment does."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    return device, otp.recovery_codes_create(user=user)


def code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the user's app shows (``steps_ahead`` × 30 s later)."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time() + steps_ahead * device.step
    return f"{generator.token():0{device.digits}d}"


def wrong_code_of(device: TOTPDevice) -> str:
    """Six digits that none of the codes the device accepts now can be."""
    accepted = {code_of(device, steps_ahead=ahead) for ahead in (-1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444")
                if code not in accepted)


def verify(client: Client, device: TOTPDevice, *, steps_ahead: int = 0):
    return client.post(VERIFY, {"code": code_of(device, steps_ahead=steps_ahead)})


def case_url(case) -> str:
    return reverse("cases:detail", args=[case.number])


def error_codes(response) -> list[str]:
    return [error.code for error in response.context["form"].errors.as_data().get("code", [])]


# --- Enrolment -------------------------------------------------------------------------------

def test_a_key_another_session_saw_is_never_the_one_turned_on(handler):
    # given someone holding only the handler's password, who opens enrolment first
    snoop = signed_in(handler)
    snoop.get(ENROL)
    seen = TOTPDevice.objects.get(user=handler, confirmed=False)
    # when the handler then enrols in a session of their own
    client = signed_in(handler)
    client.get(ENROL)
    mine = TOTPDevice.objects.get(user=handler, confirmed=False)
    # then theirs is a new key, and the one the other session saw is gone
    assert mine.pk != seen.pk and mine.key != seen.key
    assert not TOTPDevice.objects.filter(pk=seen.pk).exists()
    # and the handler's own key is the one turned on
    client.post(ENROL, {"code": code_of(mine)})
    assert TOTPDevice.objects.get(user=handler, confirmed=True).key == mine.key
    # while the other session, sending the seen key's code, gets a fresh key, not the factor
    snoop.post(ENROL, {"code": code_of(seen)})
    assert list(TOTPDevice.objects.filter(user=handler, confirmed=True)
                .values_list("key", flat=True)) == [mine.key]


def test_enrolment_with_the_right_code_turns_it_on_and_shows_ten_codes_once(handler):
    # given a handler, whose role does not require it, opening the page from the user menu
    client = signed_in(handler)
    page = client.get(ENROL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=handler, confirmed=False)
    html = page.content.decode()
    assert "<svg" in html and "<script>" not in html  # drawn here, no script, no service
    assert otp.totp_secret_text(device) in html  # the key, for typing in by hand
    assert page.headers["Cache-Control"].startswith("max-age=0")  # never_cache: a secret
    # when they enter the code their app shows
    response = client.post(ENROL, {"code": code_of(device), "next": "/cases/unit/"})
    # then the authenticator is on, with ten recovery codes shown on the next page, once
    assert response.status_code == 302
    assert response.url.startswith(CODES) and "next=%2Fcases%2Funit%2F" in response.url
    device.refresh_from_db()
    assert device.confirmed
    tokens = set(StaticToken.objects.filter(device__user=handler).values_list("token", flat=True))
    assert len(tokens) == otp.RECOVERY_CODE_COUNT == 10
    shown = client.get(response.url)
    assert set(shown.context["codes"]) == {otp.recovery_code_display(t) for t in tokens}
    assert all(otp.recovery_code_display(t) in shown.content.decode() for t in tokens)
    again = client.get(CODES)
    assert again.context["codes"] == []
    assert not any(token in again.content.decode() for token in tokens)
    # and this session counts as verified: the user works on
    assert client.get("/cases/unit/").status_code == 200


def test_a_wrong_enrolment_code_says_so_then_throttles_and_turns_nothing_on(handler):
    client = signed_in(handler)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=handler, confirmed=False)
    # when a wrong code is entered
    response = client.post(ENROL, {"code": wrong_code_of(device)})
    # then the page says so, keeps the same QR code and key, and nothing is turned on
    assert response.status_code == 200
    assert error_codes(response) == ["wrong"]
    assert "That code is not right" in response.content.decode()
    assert otp.totp_secret_text(device) in response.content.decode()
    # and a second try at once, even with the right code, is held back (django-otp throttling)
    throttled = client.post(ENROL, {"code": code_of(device)})
    assert error_codes(throttled) == ["throttled"]
    assert "Too many wrong codes" in throttled.content.decode()
    assert not TOTPDevice.objects.filter(user=handler, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=handler).exists()


def test_a_user_with_an_authenticator_cannot_enrol_another_with_the_password_alone(handler):
    # given a user with an authenticator, and someone who has only their password
    enrol(handler)
    client = signed_in(handler)
    # when that someone opens enrolment to add their own phone
    response = client.get(ENROL)
    # then they are sent to the verify step instead, and no second device appears
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    client.post(ENROL, {"code": "123456"})
    assert TOTPDevice.objects.filter(user=handler).count() == 1


# --- Who must have it ------------------------------------------------------------------------

def test_a_required_role_without_a_device_is_sent_to_enrolment_and_cannot_open_a_case(
        supervisor, demo_users, production_roles):
    # given a supervisor (a required role) without an authenticator, and a case they may see
    case = CaseFactory()
    client = signed_in(supervisor)
    # when they open the case, their home or the admin
    response = client.get(case_url(case))
    # then they are sent to enrolment, and come back to the case afterwards
    assert response.status_code == 302
    assert response.url == f"{ENROL}?next={case_url(case).replace('/', '%2F')}"
    assert client.get("/cases/overdue/").url.startswith(ENROL)
    assert signed_in(demo_users["security"]).get("/admin/").url.startswith(ENROL)
    # once enrolled, the case opens
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=supervisor)
    client.post(ENROL, {"code": code_of(device)})
    assert client.get(case_url(case)).status_code == 200


def test_a_role_not_in_otp_required_roles_is_not_forced(handler, supervisor, settings,
                                                        production_roles):
    # the handler is not in production's list
    assert signed_in(handler).get("/cases/unit/").status_code == 200
    # the list is the one place that says who: without the supervisors, they are let through
    settings.OTP_REQUIRED_ROLES = ["handler"]
    assert signed_in(supervisor).get("/cases/overdue/").status_code == 200
    assert signed_in(handler).get("/cases/unit/").url.startswith(ENROL)


def test_the_superuser_needs_it_where_production_says_so(demo_users, settings, production_roles):
    root = User.objects.create_superuser(username="root", password="Qinghe-root-2026")
    assert signed_in(root).get("/admin/").url.startswith(ENROL)
    settings.OTP_REQUIRED_FOR_SUPERUSER = False
    assert signed_in(root).get("/admin/").status_code == 200


def test_a_misspelt_role_stops_the_start(settings):
    settings.OTP_REQUIRED_ROLES = ["supervisors"]
    with pytest.raises(ImproperlyConfigured):
        otp.required_roles()


def test_production_keeps_the_administrators_and_supervisors_whatever_the_environment_says():
    # given production's environment, which asks for the handlers and tries to drop the rest
    env = {key: value for key, value in os.environ.items()
           if key != "DJANGO_SETTINGS_MODULE" and not key.startswith("PETITIONDESK_")}
    env.update({"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "xf.example.gov.cn",
                "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
                "REDIS_URL": "redis://127.0.0.1:1/0",
                "PETITIONDESK_FIELD_KEYS": "p1:" + "ab" * 16,
                "PETITIONDESK_BLIND_INDEX_KEY": "cd" * 32,
                "PETITIONDESK_AUDIT_KEYS": "a1:" + "ef" * 32,
                "OTP_REQUIRED_ROLES": "handler", "OTP_REQUIRED_FOR_SUPERUSER": "false"})
    # when the production settings load
    result = subprocess.run(
        [sys.executable, "-c", "from config.settings import production as p; "
                               "print(p.OTP_REQUIRED_ROLES, p.OTP_REQUIRED_FOR_SUPERUSER)"],
        cwd=django_settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60)
    # then the handlers are added, and nothing is taken away
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("]")[0] + "]" == str(sorted([*OTP_MANDATORY_ROLES, "handler"]))
    assert result.stdout.strip().endswith("True")


# --- The verify step -------------------------------------------------------------------------

def test_a_password_only_login_is_refused_where_the_second_factor_is_required(
        client, supervisor, production_roles):
    # given a supervisor with an authenticator, and a case they may see
    device, _codes = enrol(supervisor)
    case = CaseFactory()
    # when they sign in with their password alone
    assert client.post(reverse("login"), {"username": "supervisor",
                                          "password": "demo"}).status_code == 302
    # then the case, their home and the admin are refused: each sends them to the verify step
    response = client.get(case_url(case))
    assert response.status_code == 302
    assert response.url == f"{VERIFY}?next={case_url(case).replace('/', '%2F')}"
    assert client.get("/cases/overdue/").url.startswith(VERIFY)
    assert client.get(ENROL).url.startswith(VERIFY)  # nor can they enrol another phone
    # until they enter the code of their app, which takes them to the case
    verified = client.post(VERIFY, {"code": code_of(device), "next": case_url(case)})
    assert verified.status_code == 302 and verified.url == case_url(case)
    assert client.get(case_url(case)).status_code == 200


def test_a_user_who_enrolled_of_their_own_accord_is_asked_too(handler):
    device, _codes = enrol(handler)
    client = signed_in(handler)
    assert client.get("/cases/unit/").url.startswith(VERIFY)
    assert verify(client, device).status_code == 302
    assert client.get("/cases/unit/").status_code == 200


def test_a_recovery_code_signs_in_once(handler):
    # given a user with recovery codes, who has no phone at hand
    _device, codes = enrol(handler)
    first = signed_in(handler)
    # when they enter one, as printed (with its dash, in capitals)
    response = first.post(VERIFY, {"code": otp.recovery_code_display(codes[0]).upper()})
    # then they are in, told how many are left, and that code is used up
    assert response.status_code == 302
    page = first.get("/cases/unit/")
    assert page.status_code == 200
    assert [str(message) for message in page.context["messages"]] == [
        "You signed in with a recovery code, which is now used up; 9 are left."]
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    # and the same code, tried again in another session, is refused
    second = signed_in(handler)
    refused = second.post(VERIFY, {"code": codes[0]})
    assert refused.status_code == 200 and error_codes(refused) == ["wrong"]
    assert second.get("/cases/unit/").url.startswith(VERIFY)
    # while an unused one still works there, once the wrong try's wait is over
    StaticDevice.objects.get(user=handler).throttle_reset()
    assert second.post(VERIFY, {"code": codes[1]}).status_code == 302


@pytest.mark.parametrize("typed", ["", "abc", "12345", "1234567", "x" * 40, "<script>",
                                   "１２３４５６", "abcd-efgh-ijkl"])
def test_bad_input_on_the_verify_page_gives_the_message_and_no_500(handler, typed):
    device, _codes = enrol(handler)
    client = signed_in(handler)
    response = client.post(VERIFY, {"code": typed})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert 'href="#id_code"' in response.content.decode()  # the summary links to the field
    assert client.get("/cases/unit/").url.startswith(VERIFY)
    device.refresh_from_db()
    assert device.last_t == -1  # no code was taken


def test_a_right_code_typed_with_full_width_digits_and_spaces_is_taken(handler):
    device, _codes = enrol(handler)
    client = signed_in(handler)
    code = code_of(device)
    typed = " ".join([code[:3], code[3:]]).translate(str.maketrans("0123456789",
                                                                   "０１２３４５６７８９"))
    assert client.post(VERIFY, {"code": typed}).status_code == 302
    assert client.get("/cases/unit/").status_code == 200


def test_the_password_change_waits_for_the_second_factor(handler):
    # given a user with an authenticator whose password an administrator set
    device, _codes = enrol(handler)
    handler.must_change_password = True
    handler.save(update_fields=["must_change_password"])
    client = signed_in(handler)
    # when someone with that password alone tries to choose a new one
    response = client.post(reverse("password_change"), {
        "old_password": "demo", "new_password1": "Qinghe-2026-mine",
        "new_password2": "Qinghe-2026-mine"})
    # then they are sent to the verify step first, and the password stays
    assert response.url.startswith(VERIFY)
    handler.refresh_from_db()
    assert handler.check_password("demo")
    # after the code, the forced change comes next
    assert verify(client, device).status_code == 302
    assert client.get("/cases/unit/").url == reverse("password_change")


def test_new_recovery_codes_need_a_fresh_code_from_the_app(handler):
    # given a verified session
    device, old_codes = enrol(handler)
    client = signed_in(handler)
    verify(client, device)
    # when a wrong code is given for new recovery codes
    refused = client.post(MANAGE, {"code": wrong_code_of(device)})
    # then nothing changes
    assert refused.status_code == 200 and error_codes(refused) == ["wrong"]
    assert set(StaticToken.objects.filter(device__user=handler)
               .values_list("token", flat=True)) == set(old_codes)
    # and with the app's next code, the old codes are replaced by ten new ones, shown once
    device.refresh_from_db()
    device.throttle_reset()  # the wrong code's wait is over
    response = client.post(MANAGE, {"code": code_of(device, steps_ahead=1)})
    assert response.status_code == 302 and response.url == CODES
    new = set(StaticToken.objects.filter(device__user=handler).values_list("token", flat=True))
    assert len(new) == 10 and not new & set(old_codes)
    assert len(client.get(CODES).context["codes"]) == 10
    assert client.get("/cases/unit/").status_code == 200  # still verified


def test_the_user_menu_links_to_two_step_sign_in(handler):
    client = signed_in(handler)
    assert f'href="{MANAGE}"' in client.get("/cases/unit/").content.decode()
    page = client.get(MANAGE)
    assert page.status_code == 200 and f'href="{ENROL}"' in page.content.decode()


# --- The security administrator's reset ------------------------------------------------------

def reset_url(user: User) -> str:
    return reverse("admin:accounts_accountsecurity_second_factor", args=[user.pk])


def test_the_security_admin_resets_a_users_second_factor(demo_users, handler):
    # given a handler working with their second factor
    device, _codes = enrol(handler)
    handler_client = signed_in(handler)
    verify(handler_client, device)
    security = demo_users["security"]
    client = signed_in(security)
    # when the security administrator confirms the reset
    listing = client.get("/admin/accounts/accountsecurity/?second_factor=yes")
    assert [user.username for user in listing.context["cl"].result_list] == ["handler"]
    confirm = client.get(reset_url(handler))
    assert confirm.status_code == 200 and device.key not in confirm.content.decode()
    response = client.post(reset_url(handler))
    # then the devices are gone, the handler is signed out, and the admin's log says so
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=handler).exists()
    assert not StaticDevice.objects.filter(user=handler).exists()
    assert handler_client.get("/cases/unit/").url.startswith(reverse("login"))
    entry = LogEntry.objects.get(user=security, object_id=str(handler.pk))
    assert "Two-step sign-in reset" in entry.change_message


@pytest.mark.parametrize("username", ["admin", "audit"])
def test_the_system_and_audit_admins_cannot_reset_a_second_factor(demo_users, handler,
                                                                   username):
    # given a handler with a second factor, signed in
    device, _codes = enrol(handler)
    handler_client = signed_in(handler)
    verify(handler_client, device)
    other = demo_users[username]
    # when the system or audit administrator posts the reset
    response = signed_in(other).post(reset_url(handler))
    # then they are refused and nothing changes
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=handler, confirmed=True).exists()
    assert StaticToken.objects.filter(device__user=handler).count() == 10
    assert handler_client.get("/cases/unit/").status_code == 200
    assert not LogEntry.objects.filter(user=other).exists()
    with pytest.raises(PermissionDenied):
        otp.second_factor_reset(user=handler, actor=other)


def test_the_security_admin_cannot_reset_a_fellow_administrator(demo_users):
    enrol(demo_users["admin"])
    response = signed_in(demo_users["security"]).post(reset_url(demo_users["admin"]))
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=demo_users["admin"]).exists()


def test_no_admin_page_shows_a_device_or_its_secret(demo_users, handler):
    device, codes = enrol(handler)
    root = User.objects.create_superuser(username="root", password="Qinghe-root-2026")
    client = signed_in(root)
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
    page = client.get(f"/admin/accounts/accountsecurity/{handler.pk}/change/").content.decode()
    assert device.key not in page and codes[0] not in page
