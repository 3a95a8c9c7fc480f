"""Users, the org-unit tree and the roles users hold in units.

The tree is a materialized path (django-treebeard's MP_Node): "this unit and
everything below" is ``path LIKE '<path>%'``, one predicate served by the
``varchar_pattern_ops`` index below, so case lists filter by jurisdiction in SQL.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager

from .choices import ALLOWED_CHILDREN, Role, UnitKind


def path_contains(root: str, path: str) -> bool:
    """Whether the unit at ``path`` is the unit at ``root`` or below it: the one home of
    "this unit contains that unit" (a prefix test on the materialized path)."""
    return path.startswith(root)


def path_is_top(path: str) -> bool:
    """Whether the unit at ``path`` is the top of its tree (a county)."""
    return len(path) == OrgUnit.steplen


# Positions of treebeard's ``move`` that put the node under the reference node; the
# others put it beside the reference node, under that node's parent.
CHILD_POSITIONS = frozenset({"first-child", "last-child", "sorted-child"})


class OrgUnitManager(MP_NodeManager):
    def move(self, node, target, pos=None):
        """Move ``node`` (and its subtree) only where its kind may sit: the admin's form, its
        drag and drop and any code all pass here, so none of them can skip the check."""
        parent = target if pos in CHILD_POSITIONS else self.get_parent(target, update=True)
        node.clean_parent(parent)
        return super().move(node, target, pos)


class OrgUnit(MP_Node):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    code = models.CharField(
        _("code"), max_length=32, unique=True,
        help_text=_("Administrative division code or the office's own unit code."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]

    objects = OrgUnitManager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        indexes = [
            models.Index(fields=["path"], name="orgunit_path_prefix",
                         opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def county_path(self) -> str:
        """The path of the county this unit belongs to: the root of its tree."""
        return self.path[:self.steplen]

    def clean_parent(self, parent: "OrgUnit | None") -> None:
        """Refuse a kind that may not sit under ``parent`` (county → township → village → grid)."""
        if parent is None:
            if self.kind != UnitKind.COUNTY:
                raise ValidationError(_("Only a county can be the top of the tree."))
            return
        if self.kind not in ALLOWED_CHILDREN[parent.kind]:
            raise ValidationError(
                _("A %(kind)s cannot be placed under a %(parent)s."),
                params={"kind": self.get_kind_display(), "parent": parent.get_kind_display()},
            )


class User(AbstractUser):
    name = models.CharField(_("name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    notification_digest = models.BooleanField(
        _("daily notification digest"), default=False,
        help_text=_("Send one mail a day listing the day's notifications, instead of one "
                    "mail per notification."),
    )
    must_change_password = models.BooleanField(
        _("must change password"), default=False,
        help_text=_("Set when an administrator gives the user a password: the user is to "
                    "choose their own."),
    )
    # Users who were there before the field get the migration's time: their 90 days
    # start then. Set by accounts.validators.PasswordHistoryValidator.password_changed.
    password_changed_at = models.DateTimeField(_("password changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """A role held in a unit; its jurisdiction is that unit and everything below."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments",
                             verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="role_assignments",
                             verbose_name=_("unit"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "unit"], name="role_once_per_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


class PasswordHistory(models.Model):
    """A hash of a password the user had, so it is not chosen again (written on every change)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history",
                             verbose_name=_("user"))
    password = models.CharField(_("password"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_latest")]

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d}"


class AccountSecurity(User):
    """The security administrator's view of a user: passwords, lockouts and sessions.

    A proxy, so the admin can list the same users on a second page with other rights
    than the system administrator's user page.
    """

    class Meta:
        proxy = True
        verbose_name = _("account security")
        verbose_name_plural = _("account security")
