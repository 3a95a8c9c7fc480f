"""The sweep return's form: it checks what was typed; ``sweep_return_file`` decides."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from .models import GridReport
from .sweeps import MAX_NOTE

ZERO, FOUND = "zero", "found"


class ReportChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: GridReport) -> str:
        return f"{obj.number} · {obj.get_kind_display()} · {obj.place}"


class ReturnForm(forms.Form):
    filing = forms.ChoiceField(
        label=_("What did the sweep find?"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        choices=((ZERO, _("Nothing: a zero report (零报告)")),
                 (FOUND, _("Disputes: file the grid reports ticked below"))),
        error_messages={"required": _("Say whether the sweep found disputes or nothing."),
                        "invalid_choice": _("Say whether the sweep found disputes or "
                                            "nothing.")})
    reports = ReportChoices(
        label=_("Grid reports of this round"), queryset=GridReport.objects.none(),
        required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("The disputes reported in this unit since the round opened and not filed "
                    "yet."),
        error_messages={"invalid_choice": _("A chosen grid report was filed in another return "
                                            "meanwhile: check the list again."),
                        "invalid_pk_value": _("Choose grid reports from the list.")})
    note = forms.CharField(
        label=_("Note"), required=False, max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("Optional: where the sweep looked, whom it asked."),
        error_messages={"max_length": _("Keep the note to %(limit_value)d characters "
                                        "(it has %(show_value)d).")})

    def __init__(self, *args, candidates: QuerySet[GridReport], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reports"].queryset = candidates
        if not self.is_bound:  # what the unit reported is, most likely, what it found
            self.initial.setdefault("reports", [report.pk for report in candidates])

    def clean(self):
        cleaned = super().clean()
        filing, reports = cleaned.get("filing"), cleaned.get("reports")
        if filing == FOUND and not reports and not self.has_error("reports"):
            self.add_error("reports", _("Tick the grid reports of the disputes the sweep "
                                        "found, or report a dispute first."))
        if filing == ZERO and reports:
            self.add_error("reports", _("A zero report files no grid reports: untick them, "
                                        "or say that the sweep found disputes."))
        return cleaned
