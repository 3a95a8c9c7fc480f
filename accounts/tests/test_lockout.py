"""Login lockout behind the proxy, tried through the real login page: per name and
address, per address (password spraying), forged X-Forwarded-For, and the failure log."""

import pytest
from axes.models import AccessFailureLog
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # nginx, the one trusted proxy: every request reaches us from it
CLIENT = "203.0.113.7"
PASSWORD = "Qinghe-2026-ok"


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.fixture
def clerk(db) -> User:
    return User.objects.create_user(username="clerk", password=PASSWORD)


def login(client, username, password, *, client_address=CLIENT, forged=None):
    """Sign in through nginx, which appends the address it saw to what the client sent."""
    forwarded = f"{forged}, {client_address}" if forged else client_address
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


def test_failures_for_one_name_lock_that_name_from_that_address(client, settings, clerk):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "clerk", "wrong")
    # the right password is refused now, from that address only
    assert login(client, "clerk", PASSWORD).status_code == 429
    assert signed_in(login(client, "clerk", PASSWORD, client_address="203.0.113.8"))


def test_a_sprayed_address_is_refused_under_any_name(client, settings, clerk):
    # given a few wrong passwords for each of many names, never the pair limit for one
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        assert login(client, f"user{n}", "Password1").status_code == 200
    assert login(client, "last", "Password1").status_code == 429  # the last straw
    # when a real user name and its right password come from that address
    response = login(client, "clerk", PASSWORD)
    # then the address is locked, whatever the name; other addresses are not
    assert response.status_code == 429
    assert not signed_in(response)
    assert signed_in(login(client, "clerk", PASSWORD, client_address="203.0.113.8"))


def test_the_address_limit_is_looser_than_the_pair_limit(client, settings, clerk):
    # an office's clerks share one address: a few typos each do not lock the office
    for name in ("wang", "li", "zhao"):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            login(client, name, "wrong")
    assert signed_in(login(client, "clerk", PASSWORD))


def test_the_proxy_header_is_what_counts(client, settings, clerk):
    # given failures from one client, all through the same proxy
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "clerk", "wrong", client_address="198.51.100.9")
    # then another client behind the same proxy is not locked, and the failures
    # are recorded under the client's address, not the proxy's
    assert signed_in(login(client, "clerk", PASSWORD))
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {
        "198.51.100.9"}


def test_a_forged_forwarded_address_does_not_dodge_the_lock(client, settings, clerk):
    # given an attacker who sends a new made-up X-Forwarded-For with every try
    for n in range(settings.AXES_FAILURE_LIMIT):
        login(client, "clerk", "wrong", forged=f"192.0.2.{n}")
    # then the address nginx saw is locked all the same, with or without a forgery
    assert login(client, "clerk", PASSWORD, forged="192.0.2.200").status_code == 429
    assert login(client, "clerk", PASSWORD).status_code == 429


def test_the_failure_log_survives_a_later_success(client, clerk):
    # given two failures, then the right password
    login(client, "clerk", "wrong")
    login(client, "clerk", "wrong")
    assert signed_in(login(client, "clerk", PASSWORD))
    # then both failures stay in the log for the auditor
    assert AccessFailureLog.objects.filter(username="clerk", ip_address=CLIENT).count() == 2


def test_signing_in_to_ones_own_account_does_not_reset_the_spraying_count(client, settings,
                                                                          clerk):
    # given an attacker one failure short of the address limit
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        login(client, f"user{n}", "Password1")
    # when they sign in to an account of their own, sign out, and spray on
    assert signed_in(login(client, "clerk", PASSWORD))
    client.post(reverse("logout"))
    login(client, "another", "Password1")
    # then the address is locked
    assert login(client, "clerk", PASSWORD).status_code == 429
