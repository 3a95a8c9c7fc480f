"""Admin for the office calendar, deadline rules, clocks and the category tree.

Saving or deleting a calendar day or an announced year recomputes every live
clock once the change is committed (DOMAIN §2; LESSONS: Alaveteli's deadlines
did not move when a holiday was announced). The recompute is queued by
``cases.services.calendar``; with the task queue down the change still saves and
the nightly recompute moves the clocks, and the administrator is told which.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from config.admin_site import ReadOnlyCaseContent, ReferenceTable

from ..deadlines.clocks import deadline_explain
from ..models import AnnouncedYear, CalendarDay, Case, Category, Deadline, DeadlineRule
from ..services.calendar import RecomputeQueueing, clocks_recompute_queue, nightly_recompute_time


class RecomputesClocks:
    """ModelAdmin mixin: after a committed change to the office calendar, recompute the clocks."""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self._recompute_on_commit(request, _("%(object)s saved in the admin") % {"object": obj})

    def delete_model(self, request, obj) -> None:
        label = str(obj)
        super().delete_model(request, obj)
        self._recompute_on_commit(request, _("%(object)s deleted in the admin") % {"object": label})

    def delete_queryset(self, request, queryset) -> None:
        labels = ", ".join(str(obj) for obj in queryset[:10]) + ("…" if queryset.count() > 10 else "")
        super().delete_queryset(request, queryset)
        self._recompute_on_commit(request, _("%(objects)s deleted in the admin")
                                  % {"objects": labels})

    def _recompute_on_commit(self, request, reason: str) -> None:
        """Queue one recompute per request; once committed, say whether it was queued.

        The message waits for the commit because only then do we know: with the task
        queue down the change is still saved, and the nightly recompute moves the clocks.
        """
        if getattr(request, "_clocks_recompute_queued", False):
            return
        request._clocks_recompute_queued = True
        queueing = clocks_recompute_queue(actor=request.user, reason=str(reason))
        transaction.on_commit(lambda: self._tell_recompute(request, queueing))

    def _tell_recompute(self, request, queueing: RecomputeQueueing) -> None:
        if queueing.queued:
            self.message_user(request, _("Open deadlines are being recomputed against the "
                                         "changed calendar; each change is recorded on its case."),
                              messages.INFO)
        else:
            self.message_user(request, _("The task queue is unavailable: the recompute waits in "
                                         "the outbox and starts within a minute of the queue "
                                         "coming back, or at the nightly recompute (%(time)s) at "
                                         "the latest; each change is recorded on its case.")
                              % {"time": nightly_recompute_time()}, messages.WARNING)


@admin.register(CalendarDay)
class CalendarDayAdmin(ReferenceTable, RecomputesClocks, admin.ModelAdmin):
    list_display = ("day", "is_workday", "name")
    list_filter = ("is_workday",)
    search_fields = ("name",)
    date_hierarchy = "day"


class AnnouncedYearForm(forms.ModelForm):
    """Refuse to announce a year whose holidays have not been entered yet.

    Announcing drops the fallback statutory holidays for that year, so with no
    calendar rows every clock in it would turn firm with wrong due days.
    """

    class Meta:
        model = AnnouncedYear
        fields = ("year", "note")

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year is not None and not CalendarDay.objects.filter(
                day__year=year, is_workday=False).exists():
            raise forms.ValidationError(
                _("Enter the holidays of %(year)s in the calendar days before marking the year "
                  "announced; otherwise every deadline in %(year)s would be computed without "
                  "its holidays."),
                code="no_holidays", params={"year": year},
            )
        return year


@admin.register(AnnouncedYear)
class AnnouncedYearAdmin(ReferenceTable, RecomputesClocks, admin.ModelAdmin):
    form = AnnouncedYearForm
    list_display = ("year", "note")


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(ReferenceTable, admin.ModelAdmin):
    """The clock lengths; an edit applies to clocks started afterwards, not to running ones."""

    list_display = ("kind", "length", "unit", "is_window", "legal_basis")

    def get_readonly_fields(self, request, obj=None):
        # Which clocks are windows (rights, not duties) is the law's, not the office's:
        # shown, never edited (cases/DECISIONS.md C4).
        return ("kind", "is_window") if obj is not None else ("is_window",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # every clock kind needs its rule


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyCaseContent, admin.ModelAdmin):
    """Clocks, read-only: they change through the clock services, which write the audit trail."""

    list_display = ("case", "kind", "status", "is_window", "starts_on", "due_on", "provisional")
    list_filter = ("status", "kind", "provisional")
    search_fields = ("case__number",)
    list_select_related = ("case",)
    show_full_result_count = False

    def get_queryset(self, request):
        """Only the clocks of cases the permission module lets this administrator see."""
        visible = Case.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(case__in=visible)

    fields = ("case", "kind", "status", "is_window", "starts_on", "length", "unit",
              "extension_days", "paused_days", "paused_on", "due_on", "due_at", "provisional", "closed_at",
              "explanation")
    readonly_fields = fields

    @admin.display(description=_("how the due day was computed"))
    def explanation(self, obj: Deadline) -> str:
        lines = deadline_explain(obj)
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}</li>",
                                                           ((line,) for line in lines)))



@admin.register(Category)
class CategoryAdmin(ReferenceTable, TreeAdmin):
    """The content-category tree (内容分类), edited by a county's system administrator."""

    form = movenodeform_factory(Category)
    list_display = ("name", "code", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")
