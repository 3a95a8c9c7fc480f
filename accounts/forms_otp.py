"""The one form of the second factor's pages: a code, checked against a device."""

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import otp

WRONG_AUTHENTICATOR_CODE = _("That code is not right. Enter the six-digit code your "
                             "authenticator app shows now, and check that the phone's clock "
                             "is right.")
WRONG_CODE = _("That code is not right. Enter the six-digit code your authenticator app "
               "shows now, or one of your recovery codes.")


class SecondFactorCodeForm(forms.Form):
    """A code, accepted by the device ``pick(code)`` names (None: the user has none for it)."""

    code = forms.CharField(label=_("Code"), max_length=32)

    def __init__(self, data=None, *, pick: Callable[[str], object | None],
                 wrong_message=WRONG_AUTHENTICATOR_CODE):
        super().__init__(data)
        self.pick = pick
        self.wrong_message = wrong_message
        self.device = None

    def clean_code(self) -> str:
        code = otp.code_normalise(self.cleaned_data["code"])
        device = self.pick(code)
        if device is None or not otp.code_check(device=device, code=code):
            raise ValidationError(self.wrong_message, code="wrong")
        self.device = device
        return code
