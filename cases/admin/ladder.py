"""Admin for the escalation ladder: an edit reschedules the open clocks of its kind.

The reschedule is queued through the notifications outbox after the commit, so a task
queue that is down never fails the edit; the nightly reschedule (beat) catches up.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from config.admin_site import ReferenceTable
from notifications.services import task_enqueue

from ..models import Audience, LadderStep
from ..tasks import escalation_reschedule_task


class LadderStepForm(forms.ModelForm):
    audiences = forms.MultipleChoiceField(label=_("who is told"), choices=Audience.choices,
                                          widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = LadderStep
        fields = ["clock_kind", "level", "offset", "audiences", "action", "is_active"]


@admin.register(LadderStep)
class LadderStepAdmin(ReferenceTable, admin.ModelAdmin):
    """The rungs per clock kind; offsets in working days from the due time (DECISIONS E1)."""

    form = LadderStepForm
    list_display = ("clock_kind", "level", "offset", "audiences", "action", "is_active")
    list_filter = ("clock_kind", "is_active")
    ordering = ("clock_kind", "level")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self._reschedule_on_commit(request, obj.clock_kind)

    def delete_model(self, request, obj) -> None:
        kind = obj.clock_kind
        super().delete_model(request, obj)
        self._reschedule_on_commit(request, kind)

    def _reschedule_on_commit(self, request, kind: str) -> None:
        task_enqueue(escalation_reschedule_task.name, kind=kind)
        transaction.on_commit(lambda: self.message_user(
            request, _("Open clocks of this kind are being rescheduled on the edited ladder."),
            messages.INFO))
