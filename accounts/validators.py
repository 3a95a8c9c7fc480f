"""Password rules of our own (issue 9): mixed kinds of characters, no recent password again.

Likeness to the user's name, common and all-digit passwords are Django's validators; the
list and its numbers are AUTH_PASSWORD_VALIDATORS in config/settings/base.py.
"""

import unicodedata

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

KINDS = 4  # capital letters, small letters, digits, anything else


def character_kinds(password: str) -> int:
    """Count the kinds of characters in ``password``: capitals, small letters, digits, others."""
    kinds = set()
    for char in password:
        category = unicodedata.category(char)
        if category == "Lu":
            kinds.add("upper")
        elif category == "Ll":
            kinds.add("lower")
        elif category == "Nd":
            kinds.add("digit")
        else:  # punctuation, symbols, spaces, and letters without case such as 汉字
            kinds.add("other")
    return len(kinds)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule; its message is marked here because Django 5.2's zh-hans
    catalogue lacks this wording, so our catalogue carries it."""

    def get_error_message(self):
        return ngettext(
            "This password is too short. It must contain at least %d character.",
            "This password is too short. It must contain at least %d characters.",
            self.min_length,
        ) % self.min_length


class CharacterKindsValidator:
    """Ask for characters of at least ``min_kinds`` of the four kinds (等保: complexity)."""

    def __init__(self, min_kinds: int = 3):
        if not 1 <= min_kinds <= KINDS:
            raise ValueError(f"min_kinds must be 1 to {KINDS}, not {min_kinds}.")
        self.min_kinds = min_kinds

    def validate(self, password, user=None):
        if character_kinds(password) < self.min_kinds:
            raise ValidationError(
                _("This password must contain characters of at least %(min_kinds)d of these "
                  "kinds: capital letters, small letters, digits, other characters.")
                % {"min_kinds": self.min_kinds},
                code="password_too_simple",
                params={"min_kinds": self.min_kinds},
            )

    def get_help_text(self):
        return _("Your password must contain characters of at least %(min_kinds)d of these "
                 "kinds: capital letters, small letters, digits, other characters."
                 ) % {"min_kinds": self.min_kinds}


class PasswordHistoryValidator:
    """Refuse any of the user's last ``count`` passwords, the current one included.

    Django calls ``password_changed`` after every save of a new password (the user's own
    change, an administrator's reset, a new user), so the history and the password's
    age are written in one place whichever way the password came.
    """

    def __init__(self, count: int = 5):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}.")
        self.count = count

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        hashes = list(user.password_history.values_list("password", flat=True)[:self.count])
        if user.password and user.password not in hashes:
            hashes.append(user.password)  # set before the history existed
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                ngettext("You have used this password recently. Choose one that differs "
                         "from your last password.",
                         "You have used this password recently. Choose one that differs "
                         "from your last %(count)d passwords.",
                         self.count) % {"count": self.count},
                code="password_reused",
                params={"count": self.count},
            )

    def password_changed(self, password, user):
        """Record the new hash and the time; keep only the last ``count`` hashes."""
        from .models import PasswordHistory, User

        if user.pk is None or not user.has_usable_password():
            return
        now = timezone.now()
        PasswordHistory.objects.create(user=user, password=user.password, created_at=now)
        stale = user.password_history.values_list("pk", flat=True)[self.count:]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now

    def get_help_text(self):
        return ngettext("Your password must differ from your last password.",
                        "Your password must differ from your last %(count)d passwords.",
                        self.count) % {"count": self.count}
