"""The 回头看 campaign's forms: the conclusion days that narrow the case list's filters (in
the query string, beside them), and the campaign's name and day to finish by (posted).
They check what was typed; ``campaign_create`` decides (followup/DECISIONS.md F12)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms import mark_invalid

from .models import Campaign

_date_widget = forms.DateInput(attrs={"type": "date", "class": "form-control"},
                               format="%Y-%m-%d")
_bad_day = _("Enter a date, for example 2026-10-08.")


class ConcludedForm(forms.Form):
    """The conclusion days (DECISIONS F12): read with the case list's filters, from the URL."""

    concluded_from = forms.DateField(label=_("Concluded from"), required=False,
                                     widget=_date_widget,
                                     error_messages={"invalid": _bad_day})
    concluded_to = forms.DateField(label=_("Concluded until"), required=False,
                                   widget=_date_widget,
                                   help_text=_("The day the case was answered, closed or "
                                               "decided; both days included."),
                                   error_messages={"invalid": _bad_day})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["concluded_to"].widget.attrs["aria-describedby"] = "id_concluded_to-hint"

    def clean(self):
        data = super().clean()
        start, end = data.get("concluded_from"), data.get("concluded_to")
        if start and end and start > end:
            self.add_error("concluded_to", _("The end date is before the start date."))
        return data

    def _post_clean(self):
        super()._post_clean()
        mark_invalid(self)


class CampaignForm(forms.Form):
    """The campaign itself: its name and the day its follow-ups are to be finished by."""

    name = forms.CharField(
        label=_("Name of the campaign"),
        max_length=Campaign._meta.get_field("name").max_length,
        help_text=_("For example: land requisition cases closed last quarter, 城关镇."),
        error_messages={"required": _("Give the campaign a name."),
                        "max_length": _("Keep the name to %(limit_value)d characters.")})
    finish_by = forms.DateField(
        label=_("Finish the follow-ups by"), widget=_date_widget,
        help_text=_("A day after today, at most 90 days ahead; a rest day moves to the next "
                    "working day."),
        error_messages={"required": _("Say by which day the follow-ups are to be finished."),
                        "invalid": _bad_day})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("class", "form-control")
            field.widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def _post_clean(self):
        super()._post_clean()
        mark_invalid(self)
