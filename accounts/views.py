from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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
