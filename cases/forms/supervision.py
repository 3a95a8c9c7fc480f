"""The forms of the supervision steps (督办, R22 Art.40): issue an order, answer it, accept
or send back the answer, list it on the county's board (挂牌督办).

A case has one order open at a time, so the forms act on it without a choice of rows: the
order shown goes with the form (``order_id``), and one answered, decided or closed by
someone else meanwhile still reaches the service, whose refusal comes back on the form with
what was typed (``ROW_ACTIONS`` in cases/selectors/steps.py). Every rule stays in
cases/services/supervision.py.
"""

from __future__ import annotations

from functools import cached_property

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..choices import SupervisionStatus
from ..models import SupervisionOrder
from ..selectors.steps import latest_supervision
from ..selectors.timeline import order_demand
from ..selectors.wording import day_text
from ..services.supervision import supervision_due_proposed
from .steps import StepForm, _date_widget, _day


def _area(label, required_message, rows: int = 5, **more) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": rows}),
                           error_messages={"required": required_message}, **more)


class SuperviseForm(StepForm):
    demand = _area(_("What the order demands"),
                   _("Write what the supervision order demands."),
                   help_text=_("What the unit must do and report; the unit reads it as "
                               "written."))
    due_on = _day(_("Answer the order by"), _("Give the day by which the unit answers."))
    listed = forms.BooleanField(label=_("List it on the county's board (挂牌督办)"),
                                required=False,
                                help_text=_("For a matter the county follows itself: the board "
                                            "shows it to every office until it is taken off."))
    error_fields = {"required": "demand", "due_on": "due_on"}  # "open_order": the summary

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        proposed = supervision_due_proposed()
        self.fields["due_on"].initial = proposed
        self.fields["due_on"].help_text = _(
            "Proposed: %(day)s, the usual period for answering a supervision order; choose "
            "another day if the matter needs it.") % {"day": day_text(proposed)}

    def message_params(self) -> dict:
        order = self.outcome  # the order issued: its clock's day may have moved past a rest day
        return {"answering": order.unit.name, "due_on": day_text(order.deadline.due_on),
                "listed": self.cleaned_data["listed"]}


class OnOrderForm(StepForm):
    """An action on the case's order: the one open when the form was shown (``order_id``),
    else the one open now, else the one closed last (the service then says why not)."""

    order_id = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shown_order = latest_supervision(case=self.case)
        if self.shown_order is not None:
            self.fields["order_id"].initial = self.shown_order.pk

    def clean(self) -> dict:
        data = super().clean()
        pk = (data.get("order_id") or "").strip()
        order = self.shown_order
        if pk.isdigit() and (order is None or order.pk != int(pk)):
            order = SupervisionOrder.objects.filter(case=self.case, pk=int(pk)).first()
        if order is None:
            raise ValidationError(_("Case %(number)s has no supervision order."),
                                  code="no_order", params={"number": self.case.number})
        data["order"] = order
        return data

    @cached_property
    def shown(self) -> list[tuple[str, str]]:
        """What the form acts on, shown above its fields: the demand and its day."""
        order = self.shown_order
        if order is None:
            return []
        rows = [(_("What the order demands"), order_demand(order))]
        if order.deadline is not None:
            rows.append((_("Answer the order by"), day_text(order.deadline.due_on)))
        return rows


class AnswerSupervisionForm(OnOrderForm):
    text = _area(_("Answer to the supervision order"),
                 _("Write the answer to the supervision order."), rows=6,
                 help_text=_("What the unit did and found, and what it will still do; the "
                             "supervisor accepts it or sends it back."))
    error_fields = {"required": "text"}  # "answered": the summary

    def arguments(self) -> dict:
        return {"order": self.cleaned_data["order"], "text": self.cleaned_data["text"]}

    @cached_property
    def shown(self) -> list[tuple[str, str]]:
        rows = super().shown
        sent_back = self.shown_order and [a for a in self.shown_order.answers.all()
                                          if a.verdict == a.SENT_BACK]
        if sent_back:
            rows.append((_("Why the last answer was sent back"), sent_back[-1].verdict_note))
        return rows


class DecideSupervisionForm(OnOrderForm):
    ACCEPT, SEND_BACK = "accept", "send_back"

    decision = forms.ChoiceField(
        label=_("Your verdict on the answer"), widget=forms.RadioSelect,
        choices=[(ACCEPT, _("Accept the answer: the order is closed")),
                 (SEND_BACK, _("Send it back: the unit answers again by a new day"))],
        error_messages={"required": _("Choose to accept the answer or to send it back.")})
    note = forms.CharField(label=_("Note to the unit"), required=False,
                           widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Needed when you send the answer back: the unit reads "
                                       "why, to answer again."))
    due_on = forms.DateField(label=_("New day to answer by"), required=False,
                             widget=_date_widget(),
                             error_messages={"invalid": _("Enter a real day, e.g. 2026-10-08.")},
                             help_text=_("Only when you send the answer back."))
    # The answer read (the one awaiting a verdict when the form was shown): deciding on
    # another one, sent in meanwhile, is refused by the service ("answer_changed").
    answer_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    error_fields = {"required": "note", "due_on": "due_on"}  # the others: the summary

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        waiting = self._waiting()
        if waiting is not None:
            self.fields["answer_id"].initial = waiting.pk

    def _waiting(self):
        """The answer awaiting a verdict on the order shown, if any."""
        waiting = self.shown_order and [a for a in self.shown_order.answers.all()
                                        if not a.verdict]
        return waiting[-1] if waiting else None

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"order": data["order"], "accept": data["decision"] == self.ACCEPT,
                "note": data["note"], "due_on": data["due_on"], "answer_id": data["answer_id"]}

    def message_params(self) -> dict:
        order = self.outcome.order
        return {"answering": order.unit.name,
                "due_on": day_text(order.deadline.due_on) if order.deadline else ""}

    @cached_property
    def shown(self) -> list[tuple[str, str]]:
        rows = super().shown
        answer = self._waiting()
        if answer is not None:
            rows.append((_("The unit's answer, by %(name)s") % {
                "name": answer.answered_by.display_name}, answer.text))
        return rows


class ListSupervisionForm(OnOrderForm):
    LIST, UNLIST = "list", "unlist"

    listing = forms.ChoiceField(
        label=_("The county's board (挂牌督办)"), widget=forms.RadioSelect,
        choices=[(LIST, _("List the order on the board")),
                 (UNLIST, _("Take the order off the board"))],
        error_messages={"required": _("Choose to list the order or to take it off.")})
    reason = _area(_("Reason"), _("Say why the order is listed or taken off the board."),
                   rows=3)
    error_fields = {"required": "reason", "unchanged": "listing"}  # "closed": the summary

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        order = self.shown_order
        if order is not None:  # offer the change: an order listed is to be taken off
            self.fields["listing"].initial = self.UNLIST if order.listed else self.LIST

    def arguments(self) -> dict:
        data = self.cleaned_data
        return {"order": data["order"], "listed": data["listing"] == self.LIST,
                "reason": data["reason"]}

    @cached_property
    def shown(self) -> list[tuple[str, str]]:
        rows = super().shown
        order = self.shown_order
        if order is not None and order.status != SupervisionStatus.CLOSED:
            rows.append((_("The county's board (挂牌督办)"),
                         _("Listed now") if order.listed else _("Not listed now")))
        return rows

