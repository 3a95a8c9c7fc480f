"""The public page's forms: they check what was typed; the services decide."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import MAX_COMMENT, Rating
from .services import code_normalise, number_normalise

# A case number as registration gives it (341122-2026-000042), as cases/urls.py reads it.
NUMBER_PATTERN = re.compile(r"[0-9A-Z]+-[0-9]{4}-[0-9]{6}")
MAX_NUMBER = 32
MAX_CODE = 32


class QueryForm(forms.Form):
    number = forms.CharField(
        label=_("Case number"), max_length=MAX_NUMBER,
        help_text=_("As printed on your notice of acceptance, for example 341122-2026-000042."),
        error_messages={"required": _("Enter the case number."),
                        "max_length": _("The case number is at most %(limit_value)d "
                                        "characters.")})
    code = forms.CharField(
        label=_("Query code"), max_length=MAX_CODE,
        help_text=_("The 8 letters and digits printed under the case number."),
        error_messages={"required": _("Enter the query code."),
                        "max_length": _("The query code is at most %(limit_value)d "
                                        "characters.")})

    def clean_number(self) -> str:
        number = number_normalise(self.cleaned_data["number"])
        if not NUMBER_PATTERN.fullmatch(number):
            raise forms.ValidationError(
                _("Enter the case number as printed, for example 341122-2026-000042."),
                code="number_format")
        return number

    def clean_code(self) -> str:
        code = code_normalise(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter the query code."), code="required")
        return code


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label=_("How satisfied are you with the handling of your petition?"),
        choices=Rating.choices, widget=forms.RadioSelect,
        error_messages={"required": _("Choose satisfied, basically satisfied or "
                                      "dissatisfied."),
                        "invalid_choice": _("Choose satisfied, basically satisfied or "
                                            "dissatisfied.")})
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Optional, but needed if you are dissatisfied: say what with."),
        error_messages={"max_length": _("Keep the comment to %(limit_value)d characters.")})
