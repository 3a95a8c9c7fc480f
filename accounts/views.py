from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from . import otp
from .forms_otp import WRONG_CODE, SecondFactorCodeForm
from .middleware import password_change_due
from .navigation import home_url
from .services import user_set_language


@login_required
def home(request):
    """Send each user to their role's home page."""
    target = home_url(request.user)
    if target is None:
        return render(request, "accounts/no_role.html", status=403)
    return redirect(target)


@require_POST
def set_language(request):
    """Switch the interface language: remembered on the user, or in a cookie before login."""
    language = request.POST.get("language", "")
    supported = {code for code, _name in settings.LANGUAGES}
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = redirect(target)
    if language not in supported:
        messages.error(request, _("That language is not available."))
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax",
                        max_age=365 * 24 * 3600, secure=request.is_secure(), httponly=True)
    return response


def lockout(request, credentials=None, *args, **kwargs):
    """What a locked-out login sees (django-axes calls this)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"cooloff_time": _("%(minutes)d minutes") % {"minutes": minutes}}
    return render(request, "accounts/lockout.html", context, status=429)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's change page (it runs the validators); a change also ends a forced change."""

    def form_valid(self, form):
        form.user.must_change_password = False  # saved with the new password
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        if user.must_change_password:
            context["forced_reason"] = _("An administrator set your password. Choose a "
                                         "password of your own to continue.")
        elif password_change_due(user):
            context["forced_reason"] = _(
                "Your password is more than %(days)d days old. Choose a new one to continue."
            ) % {"days": settings.PASSWORD_MAX_AGE_DAYS}
        return context


# --- The second factor (accounts/otp.py) ----------------------------------------------------

@never_cache
@login_required
def otp_enrol(request):
    """Add an authenticator app: scan the QR code (or type the secret), then enter its code."""
    user, target = request.user, _next_url(request)
    if otp.second_factor_enrolled(user):  # one authenticator; a new one only after a reset
        return _redirect_next("otp_verify", target)
    device = otp.totp_device_pending(user=user, session=request.session)
    form = SecondFactorCodeForm(request.POST or None, pick=lambda code: device)
    if request.method == "POST" and form.is_valid():
        codes = otp.totp_device_confirm(device=device, keep_session=request.session.session_key)
        request.session.pop(otp.PENDING_SESSION_KEY, None)
        _second_factor_passed(request, device)
        request.session[otp.NEW_CODES_SESSION_KEY] = codes
        return _redirect_next("otp_recovery_codes", target)
    return render(request, "accounts/otp_enrol.html", {
        "form": form, "next": target, "required": otp.second_factor_required(user),
        "qr_svg": otp.totp_qr_svg(device), "secret": otp.totp_secret_text(device)})


@never_cache
@login_required
def otp_verify(request):
    """The second step of signing in: the authenticator's code, or a recovery code."""
    user, target = request.user, _next_url(request)
    if user.is_verified():
        return redirect(target)
    if not otp.second_factor_enrolled(user):  # reset meanwhile: enrol, if the role needs it
        request.session[otp.ENROLLED_SESSION_KEY] = False
        return redirect(target)
    form = SecondFactorCodeForm(request.POST or None, wrong_message=WRONG_CODE,
                                pick=lambda code: otp.device_for_code(user=user, code=code))
    if request.method == "POST" and form.is_valid():
        _second_factor_passed(request, form.device)
        if isinstance(form.device, StaticDevice):
            left = otp.recovery_codes_left(user)
            messages.warning(request, ngettext(
                "You signed in with a recovery code, which is now used up; %(count)d is left.",
                "You signed in with a recovery code, which is now used up; %(count)d are left.",
                left) % {"count": left})
        return redirect(target)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": target})


@never_cache
@login_required
def otp_recovery_codes(request):
    """Show the recovery codes just made, this once."""
    codes = request.session.pop(otp.NEW_CODES_SESSION_KEY, None) or []
    return render(request, "accounts/otp_recovery_codes.html", {
        "codes": [otp.recovery_code_display(code) for code in codes],
        "next": _next_url(request)})


@never_cache
@login_required
def otp_manage(request):
    """Two-step sign-in: whether it is on and required; new recovery codes for a fresh code."""
    user = request.user
    device = otp.totp_device(user)
    form = SecondFactorCodeForm(request.POST or None, pick=lambda code: device) if device else None
    if request.method == "POST" and form is not None and form.is_valid():
        request.session[otp.NEW_CODES_SESSION_KEY] = otp.recovery_codes_create(user=user)
        _second_factor_passed(request, device)  # the old codes' device is gone
        return redirect("otp_recovery_codes")
    return render(request, "accounts/otp_manage.html", {
        "device": device, "form": form, "required": otp.second_factor_required(user),
        "codes_left": otp.recovery_codes_left(user) if device else 0})


def _second_factor_passed(request, device) -> None:
    """Mark this session verified by ``device`` (django-otp), under a new session key."""
    request.session.cycle_key()
    otp_login(request, device)
    request.session[otp.ENROLLED_SESSION_KEY] = True


def _next_url(request) -> str:
    """The page to go on to: ``next`` if it is one of ours, else the user's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url("home")


def _redirect_next(page: str, target: str):
    return redirect(f"{resolve_url(page)}?{urlencode({'next': target})}")
