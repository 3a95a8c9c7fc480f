"""The password policy, tried through the real login and change pages: SM3 hashing, the
validators, the history, expiry and the administrator's forced change (issue 9)."""

import base64
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password
from django.urls import reverse
from django.utils import timezone

from accounts.hashers import PBKDF2SM3PasswordHasher
from accounts.middleware import PasswordChangeRequiredMiddleware
from accounts.models import PasswordHistory, User
from accounts.validators import character_kinds

pytestmark = pytest.mark.django_db

FIRST = "Qinghe-2019-first"
MIDDLEWARE = f"{PasswordChangeRequiredMiddleware.__module__}.PasswordChangeRequiredMiddleware"
TOO_SIMPLE = "qinghexinfangban"  # long enough, small letters only


@pytest.fixture(autouse=True)
def forced_change_enforced(settings):
    """Run with the middleware even before config/settings/base.py lists it."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
        at = settings.MIDDLEWARE.index("accounts.middleware.UserLanguageMiddleware") + 1
        settings.MIDDLEWARE = [*settings.MIDDLEWARE[:at], MIDDLEWARE, *settings.MIDDLEWARE[at:]]


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user(username="zhou", password=FIRST, name="周信访")


def login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def change(client, old, new):
    return client.post(reverse("password_change"), {
        "old_password": old, "new_password1": new, "new_password2": new})


def errors(response) -> list[str]:
    return response.context["form"].errors.get("new_password2", [])


# --- The hasher ---------------------------------------------------------------------

def test_the_sm3_hasher_derives_pbkdf2_hmac_sm3_in_djangos_format():
    # given a known PBKDF2-HMAC-SM3 value (OpenSSL's pbkdf2_hmac("sm3", b"pw", b"salt", 1000))
    expected = bytes.fromhex("85db78622d102e400a920aeecd0244322603f350f5be55cf6e4c3704bd8f7b9c")
    hasher = PBKDF2SM3PasswordHasher()
    # when the hasher encodes the same input
    encoded = hasher.encode("pw", "salt", iterations=1000)
    # then it stores that value the way Django stores PBKDF2 hashes, and verifies with it
    assert encoded == "pbkdf2_sm3$1000$salt$" + base64.b64encode(expected).decode()
    assert hasher.verify("pw", encoded)
    assert not hasher.verify("pW", encoded)
    assert hasher.must_update(encoded)  # fewer rounds than the hasher's own


def test_an_old_pbkdf2_sha256_hash_is_upgraded_to_sm3_at_login(client, settings, user):
    # given the production hashers and a password stored before SM3 (few rounds, for speed)
    settings.PASSWORD_HASHERS = ["accounts.hashers.PBKDF2SM3PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    sha256 = PBKDF2PasswordHasher()
    user.password = sha256.encode(FIRST, sha256.salt(), iterations=1000)
    user.save(update_fields=["password"])
    changed_at = User.objects.get(pk=user.pk).password_changed_at
    history = PasswordHistory.objects.filter(user=user).count()
    # when the user signs in
    assert login(client, "zhou", FIRST).status_code == 302
    # then the password is stored again with SM3 at the full rounds
    user.refresh_from_db()
    assert user.password.startswith(f"pbkdf2_sm3${PBKDF2SM3PasswordHasher.iterations}$")
    assert check_password(FIRST, user.password)
    # and a new hash of the same password is not a change: the age and history stay
    assert user.password_changed_at == changed_at
    assert PasswordHistory.objects.filter(user=user).count() == history


# --- The validators -----------------------------------------------------------------

@pytest.mark.parametrize(("password", "kinds"), [
    ("abcdefgh", 1), ("abcdEFGH", 2), ("abcd1234", 2), ("abcD1234", 3), ("ab-D1234", 4),
    ("信访abcd1234", 3),  # letters without case count as "other"
])
def test_character_kinds(password, kinds):
    assert character_kinds(password) == kinds


def test_a_weak_password_is_refused_with_the_chinese_message(client, user):
    login(client, "zhou", FIRST)
    # when the user picks a password of one kind only, then a short one
    simple = change(client, FIRST, TOO_SIMPLE)
    short = change(client, FIRST, "Ab-1")
    # then both are refused, in Chinese, and the password stays
    assert "密码须至少包含以下四类字符中的 3 类" in " ".join(errors(simple))
    assert "密码长度太短" in " ".join(errors(short))
    user.refresh_from_db()
    assert user.check_password(FIRST)


def test_one_of_the_last_five_passwords_is_refused(client, user):
    login(client, "zhou", FIRST)
    # given five changes after the first password
    for number in range(1, 6):
        assert change(client, FIRST if number == 1 else f"Qinghe-2020-{number - 1}",
                      f"Qinghe-2020-{number}").status_code == 302
    # when the user goes back to the oldest of the last five
    reused = change(client, "Qinghe-2020-5", "Qinghe-2020-1")
    # then it is refused in Chinese; the sixth back (the first) is allowed again
    assert reused.status_code == 200
    assert "这个密码最近用过" in " ".join(errors(reused))
    assert change(client, "Qinghe-2020-5", FIRST).status_code == 302
    assert PasswordHistory.objects.filter(user=user).count() == 5


def test_an_administrators_reset_also_refuses_a_recent_password(user):
    from django.contrib.auth.forms import SetPasswordForm

    form = SetPasswordForm(user, {"new_password1": FIRST, "new_password2": FIRST})
    assert not form.is_valid()


# --- Forced change ------------------------------------------------------------------

def test_an_expired_password_must_be_changed_before_anything_else(client, settings, user):
    # given a password older than the limit
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - timedelta(days=settings.PASSWORD_MAX_AGE_DAYS + 1))
    # when the user signs in and goes on
    landing = client.get(login(client, "zhou", FIRST)["Location"])
    # then every page sends them to the change page, which says why
    assert landing["Location"] == reverse("password_change")
    assert client.get("/cases/intake/")["Location"] == reverse("password_change")
    page = client.get(reverse("password_change"))
    assert "您的密码已使用超过 90 天" in page.content.decode()
    # and once changed, the clock starts again and the pages open
    assert change(client, FIRST, "Qinghe-2026-new").status_code == 302
    user.refresh_from_db()
    assert timezone.now() - user.password_changed_at < timedelta(minutes=1)
    assert client.get("/").status_code == 403  # the no-role page, not the change page


def test_a_password_younger_than_the_limit_is_not_forced(client, settings, user):
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - timedelta(days=settings.PASSWORD_MAX_AGE_DAYS - 1))
    login(client, "zhou", FIRST)
    assert client.get("/").status_code == 403  # the no-role page, not the change page


def test_a_password_set_by_an_administrator_must_be_changed(client, user):
    # given a user whose password an administrator set
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    login(client, "zhou", FIRST)
    # then pages send them to the change page, but signing out, the language switch,
    # static files and the health check still work
    assert client.get("/")["Location"] == reverse("password_change")
    assert "管理员设置" in client.get(reverse("password_change")).content.decode()
    assert client.post(reverse("set_language"), {"language": "zh-hans",
                                                 "next": "/"})["Location"] == "/"
    assert client.get("/static/css/app.css").status_code != 302
    assert client.get("/healthz").status_code != 302
    # when they choose their own password, the flag goes and the pages open
    assert change(client, FIRST, "Qinghe-2026-own").status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get("/").status_code == 403
    # and signing out is never blocked
    User.objects.filter(pk=user.pk).update(must_change_password=True)
    assert client.post(reverse("logout"))["Location"] == reverse("login")
