"""The errors the case services raise besides PermissionDenied and ValidationError.

Views map each to a message (or HTTP 409 for :class:`CaseChangedByOther`); the
message is translatable and says what the user can do about it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class CaseError(Exception):
    """A refusal the user can understand; ``message`` is shown as it is."""

    default_message = _("This change to the case cannot be made.")
    code = "case_error"

    def __init__(self, message=None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


class CaseChangedByOther(CaseError):
    """The case moved on between loading it and saving it (django-fsm's ConcurrentTransition)."""

    default_message = _("Someone else changed this case first; reload it and try again.")
    code = "changed_by_other"


class TransitionRefused(CaseError):
    """The case is not in a state the requested step starts from."""

    default_message = _("This step is not possible in the case's current state.")
    code = "wrong_state"


def required(value: str, message) -> str:
    """Return ``value`` stripped, or refuse it when empty with ``message``."""
    value = (value or "").strip()
    if not value:
        raise ValidationError(message, code="required")
    return value
