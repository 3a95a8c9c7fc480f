"""Request-level account rules: the user's language, the forced password change, the second
factor, and the two hooks django-axes takes from us (the client's address behind the proxy,
and the second, looser failure limit per address).
"""

import ipaddress
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from .otp import required_roles, second_factor_required, session_enrolled

# The pages that take the second factor: neither middleware below sends a user away from
# them. The forced password change also waits while new recovery codes are shown, once.
SECOND_FACTOR_PAGES = ("otp_verify", "otp_enrol")


class UserLanguageMiddleware:
    """Speak the signed-in user's language; others get the language cookie or zh-hans.

    The browser's Accept-Language is ignored on purpose: the office's system is
    Chinese unless a user chose English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response

    @staticmethod
    def _language_for(request) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user.language
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        return chosen if chosen in supported else settings.LANGUAGE_CODE


def password_change_due(user) -> bool:
    """Whether ``user`` must choose a new password before anything else."""
    if user.must_change_password:
        return True
    max_age = timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)
    return user.password_changed_at < timezone.now() - max_age


class PasswordChangeRequiredMiddleware:
    """Send a signed-in user whose password was given by an administrator, or is older than
    PASSWORD_MAX_AGE_DAYS, to the change page until they have changed it.

    Let through what that page needs and what must not wait: the page itself, signing
    out, the language switch, static files and the health check. The second factor's
    pages come first: a session opened with the password alone must not change the
    password (SecondFactorRequiredMiddleware stops it at the change page).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and password_change_due(user)
                and not self._exempt(request.path_info)):
            return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = {reverse(name) for name in ("password_change", "password_change_done",
                                              "logout", "set_language", "admin:logout",
                                              "healthz", "livez", "otp_recovery_codes",
                                              *SECOND_FACTOR_PAGES)}
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path in allowed or path.startswith(static)


class SecondFactorRequiredMiddleware:
    """Hold a signed-in user at the second factor (accounts/otp.py, DECISIONS.md O1-O2).

    A user with an authenticator who has not entered a code in this session goes to the
    verify page; a user whose roles require one and who has none goes to enrolment. Both
    come back to the page they asked for (``next``). Let through what those pages need:
    signing in and out, the language switch, static files and the health checks. Must
    follow django-otp's OTPMiddleware, which says whether the session is verified.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        required_roles()  # a misspelt role in OTP_REQUIRED_ROLES stops the start

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or self._exempt(request.path_info):
            return self.get_response(request)
        if user.is_verified():
            return self.get_response(request)
        if session_enrolled(request):
            return self._send(request, "otp_verify")
        if second_factor_required(user):
            return self._send(request, "otp_enrol")
        return self.get_response(request)

    @staticmethod
    def _send(request, page: str):
        return redirect(f"{reverse(page)}?{urlencode({'next': request.get_full_path()})}")

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = {reverse(name) for name in ("login", "logout", "set_language", "admin:logout",
                                              "healthz", "livez", *SECOND_FACTOR_PAGES)}
        static = "/" + settings.STATIC_URL.lstrip("/")
        return path in allowed or path.startswith(static)


def client_ip(request) -> str | None:
    """The client's address: the one our outermost proxy saw, when TRUSTED_PROXY_COUNT
    proxies stand in front of us (axes' AXES_CLIENT_IP_CALLABLE).

    Each proxy appends the address it received from to X-Forwarded-For, so the entry
    TRUSTED_PROXY_COUNT places from the right is the one our first proxy wrote; anything
    further left was sent by the client and may be forged. Without proxies, or without the
    header (a request that did not pass the proxy), REMOTE_ADDR is the client.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [entry.strip() for entry in
                 request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if count and forwarded:
        candidate = forwarded[max(len(forwarded) - count, 0)]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass  # a proxy that writes something else is misconfigured: fall back
    return request.META.get("REMOTE_ADDR")


class AddressLimitAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with a second limit for the address alone.

    Axes compares one AXES_FAILURE_LIMIT with the largest count over
    AXES_LOCKOUT_PARAMETERS. We count (user name, address) pairs against that limit and
    the address alone against AXES_ADDRESS_FAILURE_LIMIT, higher because an office's
    clerks share one address behind its NAT: password spraying (a few tries for each of
    many names) is caught without one clerk's typos locking the whole office out.
    """

    def get_failures(self, request, credentials=None) -> int:
        pair, address = (
            sum(attempts.values_list("failures_since_start", flat=True))
            for attempts in self.get_user_attempts(request, credentials)
        )
        if address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(pair, address, settings.AXES_FAILURE_LIMIT)
        return pair
