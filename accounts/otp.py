"""The second sign-in factor (issue 9): who must have it, enrolment, recovery codes, the reset.

GB/T 22239-2019 (等保 level 3), 8.1.4.1 身份鉴别, asks that staff be identified by two or
more authentication techniques, one of them cryptographic. After the password, a member of
staff enters a TOTP code (RFC 6238: an HMAC over the time, computed by an authenticator app
on their phone from a secret shared at enrolment); a recovery code stands in for a lost
phone, once. The devices and the session's "verified" mark are django-otp's (``TOTPDevice``,
``StaticDevice``, ``django_otp.login``, read back by its ``OTPMiddleware``); the rules are
here, asked by ``SecondFactorRequiredMiddleware``, the pages and the security
administrator's reset. Readings: accounts/DECISIONS.md O1-O7.
"""

import math
import re
import unicodedata
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .choices import Role
from .models import User
from .permissions import Action, can, held_roles
from .services import admin_log, sessions_delete, user_session_keys

RECOVERY_CODE_COUNT = 10
# Whether the signed-in user has an authenticator, kept in the session from the moment they
# sign in (and updated by enrolment), so an ordinary request asks the database nothing more.
ENROLLED_SESSION_KEY = "pd_otp_enrolled"
# The recovery codes just made, until the page that shows them once takes them out.
NEW_CODES_SESSION_KEY = "pd_otp_new_codes"
# The authenticator this session is enrolling (totp_device_pending).
PENDING_SESSION_KEY = "pd_otp_pending"
_TOTP_CODE = re.compile(r"[0-9]{6}")


def required_roles() -> frozenset[Role]:
    """The roles in OTP_REQUIRED_ROLES; a code that is no role stops the start."""
    try:
        return frozenset(Role(code) for code in settings.OTP_REQUIRED_ROLES)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"OTP_REQUIRED_ROLES: {error}; use the codes in accounts/choices.py (Role)."
        ) from error


def second_factor_required(user) -> bool:
    """Whether ``user`` may work only after a second factor (O1): a role in OTP_REQUIRED_ROLES,
    or the break-glass superuser where OTP_REQUIRED_FOR_SUPERUSER."""
    if not (user and user.is_authenticated):
        return False
    if user.is_superuser and settings.OTP_REQUIRED_FOR_SUPERUSER:
        return True
    roles = required_roles()
    return bool(roles) and any(role in roles for role in held_roles(user))


def second_factor_enrolled(user) -> bool:
    """Whether ``user`` has a confirmed authenticator (asks the database)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def session_enrolled(request) -> bool:
    """Whether the signed-in user has an authenticator, as this session knows it."""
    enrolled = request.session.get(ENROLLED_SESSION_KEY)
    if enrolled is None:  # a session from before this was kept
        enrolled = second_factor_enrolled(request.user)
        request.session[ENROLLED_SESSION_KEY] = enrolled
    return enrolled


def _remember_enrolment(sender, request, user, **kwargs) -> None:
    """At sign-in, note in the new session whether the user has an authenticator."""
    if request is not None and hasattr(request, "session"):
        request.session[ENROLLED_SESSION_KEY] = second_factor_enrolled(user)


# Connected when this module is first imported, which AccountsConfig.ready() makes sure of.
user_logged_in.connect(_remember_enrolment, dispatch_uid="accounts.otp.remember_enrolment")


def totp_device_pending(*, user: User, session) -> TOTPDevice:
    """The authenticator this session is enrolling, with a key made for this session alone.

    A key shown to one session is never confirmed from another: otherwise someone holding
    only the password could open the enrolment page first, copy the key, and share the
    factor the user then sets up (O3). A session starting enrolment drops every other
    unconfirmed device of the user; its own survives a wrong code or a reload.
    """
    pk = session.get(PENDING_SESSION_KEY)
    device = (TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first()
              if pk else None)
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"),
                                           confirmed=False)
        session[PENDING_SESSION_KEY] = device.pk
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, keep_session: str | None) -> list[str]:
    """Confirm the authenticator whose code was right; return its new recovery codes.

    The user's other sessions end (``keep_session`` stays): they were opened with the
    password alone and would not be asked for the new factor (O3).
    """
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    others = [key for key in user_session_keys(user_ids=[device.user_id]) if key != keep_session]
    Session.objects.filter(session_key__in=others).delete()
    return recovery_codes_create(user=device.user)


@transaction.atomic
def recovery_codes_create(*, user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones (each used once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_("Recovery codes"), confirmed=True)
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(StaticToken.random_token())  # 8 base-32 characters: 40 random bits
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return sorted(codes)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def recovery_code_display(code: str) -> str:
    """``abcdefgh`` as ``abcd-efgh``, easier to copy by hand (the dash is optional to type)."""
    return f"{code[:4]}-{code[4:]}"


def code_normalise(code: str) -> str:
    """What the user typed, in half-width characters (a Chinese input method may give
    full-width digits), without spaces or dashes, in lower case."""
    return re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", code)).lower()


def device_for_code(*, user: User, code: str):
    """The device a code is for: six digits are the authenticator's, else a recovery code's."""
    model = TOTPDevice if _TOTP_CODE.fullmatch(code) else StaticDevice
    return model.objects.filter(user=user, confirmed=True).first()


def code_check(*, device, code: str) -> bool:
    """Whether ``device`` accepts ``code`` (a used recovery code is gone); ValidationError
    while the device is throttled.

    django-otp's throttling stays on (OTP_*_THROTTLE_FACTOR): after n wrong codes in a row the
    device refuses every code, right or wrong, for factor × 2^(n-1) seconds.
    """
    allowed, details = device.verify_is_allowed()
    if not allowed:
        raise throttled_error(details)
    return verify_token(device.user, device.persistent_id, code) is not None


def throttled_error(details: dict | None) -> ValidationError:
    locked_until = (details or {}).get("locked_until") or timezone.now()
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    return ValidationError(ngettext(
        "Too many wrong codes. Wait %(seconds)d second, then try again.",
        "Too many wrong codes. Wait %(seconds)d seconds, then try again.", seconds)
        % {"seconds": seconds}, code="throttled")


@transaction.atomic
def second_factor_reset(*, user: User, actor: User) -> int:
    """Remove the user's authenticator and recovery codes and end their sessions; only the
    security administrator of the user's units may (O7), and the admin's log keeps it.
    Return how many devices went."""
    if not can(actor, Action.USER_SECURE, user):
        raise PermissionDenied(_("This user holds a role outside your jurisdiction."))
    removed = TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(
        user=user).count()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()  # its recovery codes go with it
    ended = sessions_delete(user_ids=[user.pk])
    admin_log(actor=actor, obj=user, message=_(
        "Two-step sign-in reset by the security administrator: the authenticator and the "
        "recovery codes were removed; %(count)d sessions ended.") % {"count": ended})
    return removed


def totp_secret_text(device: TOTPDevice) -> str:
    """The secret in base 32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> SafeString:
    """The enrolment QR code (the otpauth:// address with the secret) as inline SVG markup:
    drawn here, so the secret never leaves the server for a QR service or a script."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage)
    root = image.get_image()
    root.set("width", "220")
    root.set("height", "220")
    root.set("role", "img")
    root.set("aria-label", _("QR code for your authenticator app"))
    # Our own markup: ElementTree escapes every attribute, and the path holds numbers only.
    return mark_safe(image.to_string(encoding="unicode"))  # noqa: S308
