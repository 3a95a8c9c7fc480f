"""The security administrator's pages: passwords, lockouts, sessions and the second factor
of users in scope.

Users in scope are those whose every role lies in the security administrator's subtree,
other administrators of their own level excepted (``USER_SECURE``). A reset password must
be changed by its user (``User.must_change_password``, enforced at the next request by
``PasswordChangeRequiredMiddleware``).
Sessions are shown per user, never by session key: a key shown is a session taken over.
The second factor is shown as on or off and can be reset (``second_factor_reset``); its
devices have no admin pages: a TOTP key or a recovery code shown is a factor taken over.
"""

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_otp.plugins.otp_static import admin as _otp_static_admin  # noqa: F401
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as _otp_totp_admin  # noqa: F401
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.admin_site import SecurityOnly

from ..models import AccountSecurity
from ..otp import second_factor_reset
from ..permissions import Action, can, scope
from ..services import lockouts_reset, user_password_reset, user_session_keys, user_sessions_end

# django-otp registers its device pages on the default site, which is ours
# (config/apps.py): they would show TOTP keys, QR codes and recovery codes to anyone with
# Django's model permissions, the superuser first. Imported above so that they have
# registered, whatever the order of INSTALLED_APPS, and are taken off here.
for _device in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device):
        admin.site.unregister(_device)


def _signed_in(request) -> dict[int, int]:
    """Open sessions per user id, decoded once per request."""
    if not hasattr(request, "_sessions_by_user"):
        counts: dict[int, int] = {}
        for user_id in user_session_keys().values():
            counts[user_id] = counts.get(user_id, 0) + 1
        request._sessions_by_user = counts
    return request._sessions_by_user


def _locked_names():
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT).values("username")


class SignedInFilter(admin.SimpleListFilter):
    title = _("signed in")
    parameter_name = "signed_in"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        ids = list(_signed_in(request))
        if self.value() == "yes":
            return queryset.filter(pk__in=ids)
        if self.value() == "no":
            return queryset.exclude(pk__in=ids)
        return queryset


_ON, _OFF = pgettext_lazy("two-step sign-in", "On"), pgettext_lazy("two-step sign-in", "Off")


class SecondFactorFilter(admin.SimpleListFilter):
    title = _("two-step sign-in")
    parameter_name = "second_factor"

    def lookups(self, request, model_admin):
        return (("yes", _ON), ("no", _OFF))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(has_second_factor=self.value() == "yes")
        return queryset


class LockedOutFilter(admin.SimpleListFilter):
    title = _("locked out")
    parameter_name = "locked_out"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(username__in=_locked_names())
        if self.value() == "no":
            return queryset.exclude(username__in=_locked_names())
        return queryset


@admin.register(AccountSecurity)
class AccountSecurityAdmin(SecurityOnly, admin.ModelAdmin):
    list_display = ("username", "name", "is_active", "last_login", "must_change_password",
                    "open_sessions", "second_factor_on")
    list_filter = (SignedInFilter, LockedOutFilter, SecondFactorFilter, "is_active",
                   "must_change_password")
    search_fields = ("username", "name", "phone")
    fields = ("username", "name", "is_active", "last_login", "must_change_password",
              "open_sessions", "password_reset", "second_factor")
    readonly_fields = fields
    actions = ("end_sessions",)

    def get_queryset(self, request):
        counts = _signed_in(request)
        sessions = Case(*(When(pk=pk, then=Value(count)) for pk, count in counts.items()),
                        default=Value(0), output_field=IntegerField())
        enrolled = Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        queryset = super().get_queryset(request).annotate(session_count=sessions,
                                                          has_second_factor=enrolled)
        return scope(request.user, Action.USER_SECURE, queryset)

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.USER_SECURE, obj)

    def has_secure_permission(self, request) -> bool:
        return can(request.user, Action.SECURITY_ADMINISTER)

    def get_urls(self):
        view = self.admin_site.admin_view(self.password_reset_view)
        otp_view = self.admin_site.admin_view(self.second_factor_reset_view)
        return [path("<int:pk>/password/", view, name="accounts_accountsecurity_password"),
                path("<int:pk>/second-factor/", otp_view,
                     name="accounts_accountsecurity_second_factor"),
                *super().get_urls()]

    @admin.display(description=_("open sessions"), ordering="session_count")
    def open_sessions(self, obj) -> int:
        return getattr(obj, "session_count", 0)

    @admin.display(description=_("password"))
    def password_reset(self, obj) -> str:
        url = reverse("admin:accounts_accountsecurity_password", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Reset the password"))

    @admin.display(description=_("two-step sign-in"), boolean=True,
                   ordering="has_second_factor")
    def second_factor_on(self, obj) -> bool:
        return getattr(obj, "has_second_factor", False)

    @admin.display(description=_("two-step sign-in"))
    def second_factor(self, obj) -> str:
        if not getattr(obj, "has_second_factor", False):
            return _OFF
        url = reverse("admin:accounts_accountsecurity_second_factor", args=[obj.pk])
        return format_html('{} · <a href="{}">{}</a>', _ON, url,
                           _("Reset the two-step sign-in"))

    @admin.action(description=_("End the selected users' sessions"), permissions=["secure"])
    def end_sessions(self, request, queryset) -> None:
        ended = user_sessions_end(users=queryset, actor=request.user)
        self.message_user(request, _("%(count)d sessions ended.") % {"count": ended},
                          messages.SUCCESS)

    def password_reset_view(self, request, pk: int):
        """Set a password the user must change; their sessions end (user_password_reset)."""
        user = self.get_queryset(request).filter(pk=pk).first()
        if user is None or not can(request.user, Action.USER_SECURE, user):
            raise PermissionDenied
        form = SetPasswordForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            user_password_reset(user=user, password=form.cleaned_data["new_password1"],
                                actor=request.user)
            self.message_user(request, _("The password of %(user)s was reset; they must change "
                                         "it, and their sessions were ended.") % {"user": user},
                              messages.SUCCESS)
            return redirect("admin:accounts_accountsecurity_change", user.pk)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "form": form,
                   "original": user, "title": _("Reset the password of %(user)s") % {"user": user}}
        return TemplateResponse(request, "admin/accounts/password_reset.html", context)

    def second_factor_reset_view(self, request, pk: int):
        """Confirm, then remove the user's authenticator and recovery codes and end their
        sessions (second_factor_reset, logged); they enrol again at the next sign-in."""
        user = self.get_queryset(request).filter(pk=pk).first()
        if user is None or not can(request.user, Action.USER_SECURE, user):
            raise PermissionDenied
        if request.method == "POST":
            second_factor_reset(user=user, actor=request.user)
            self.message_user(request, _("The two-step sign-in of %(user)s was reset and their "
                                         "sessions were ended; they set it up again at their "
                                         "next sign-in.") % {"user": user}, messages.SUCCESS)
            return redirect("admin:accounts_accountsecurity_change", user.pk)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": user,
                   "title": _("Reset the two-step sign-in of %(user)s") % {"user": user}}
        return TemplateResponse(request, "accounts/otp_reset_confirm.html", context)


if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(SecurityOnly, AxesAccessAttemptAdmin):
    """Login lockouts (django-axes) of names in scope; reset them, each reset logged."""

    actions = ("reset_lockouts",)

    def get_queryset(self, request):
        return scope(request.user, Action.LOCKOUT_RESET, super().get_queryset(request))

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, Action.LOCKOUT_RESET, obj)

    def has_secure_permission(self, request) -> bool:
        return can(request.user, Action.SECURITY_ADMINISTER)

    @admin.action(description=_("Reset the selected lockouts"), permissions=["secure"])
    def reset_lockouts(self, request, queryset) -> None:
        count = lockouts_reset(attempts=queryset, actor=request.user)
        self.message_user(request, _("%(count)d lockouts reset.") % {"count": count},
                          messages.SUCCESS)
