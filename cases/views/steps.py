"""The forms of the case's steps (/cases/<number>/steps/<name>/): GET shows the step's form,
POST checks it and calls the step's service, then goes back to the case page saying what
happened and what comes next.

One view serves every step through ``STEPS`` (name → form, service, button, message). Only
the steps the user may take now are served (403 otherwise); the service stays the guard.
A form shown before someone else moved the case on (``seen_status``) is refused as such;
one whose commitment, instruction, extension or supervision order someone else dealt with
meanwhile comes back with the service's message and what was typed (``ROW_ACTIONS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from ..forms import steps as forms
from ..forms import supervision as supervision_forms
from ..models import Case
from ..selectors.steps import step_available, step_label
from ..selectors.windows import undelivered_decision
from ..selectors.wording import day_text
from ..services import transitions as services
from ..services.decisions import decision_deliver
from ..services.errors import CaseChangedByOther, CaseError
from ..services.extensions import extension_decide, extension_request
from ..services.leadership import case_assign_leader
from ..services.records import case_attach, case_note_add
from ..services.supervision import (
    supervision_answer,
    supervision_decide,
    supervision_issue,
    supervision_list,
)
from ..services.undertakings import (
    commitment_keep,
    commitment_make,
    instruction_answer,
    instruction_give,
)
from .case_page import case_or_404


def _deliver(*, case: Case, actor, **arguments):
    return decision_deliver(decision=undelivered_decision(case=case), actor=actor, **arguments)


def _on_row(service: Callable[..., object]) -> Callable[..., object]:
    """A service that acts on one row of the case (the form chose it among the case's own)."""
    return lambda *, case, actor, **arguments: service(actor=actor, **arguments)


def _extension_decided(params: dict) -> str:
    if params["decision"] == forms.DecideExtensionForm.APPROVE:
        return ngettext("The extension of %(days)d day on case %(number)s is approved; the "
                        "reply's new due day is shown under Clocks on the case page.",
                        "The extension of %(days)d days on case %(number)s is approved; the "
                        "reply's new due day is shown under Clocks on the case page.",
                        params["days"]) % params
    return _("The extension on case %(number)s is refused; the reply stays due on its day. "
             "The unit that asked sees the decision on the case page.") % params


def _supervision_issued(params: dict) -> str:
    if params["listed"]:
        return _("The supervision order on case %(number)s is issued and listed on the "
                 "county's board (挂牌督办). %(answering)s answers by %(due_on)s; you accept "
                 "the answer or send it back on the case page.") % params
    return _("The supervision order on case %(number)s is issued. %(answering)s answers by "
             "%(due_on)s; you accept the answer or send it back on the case page.") % params


def _supervision_decided(params: dict) -> str:
    if params["decision"] == supervision_forms.DecideSupervisionForm.ACCEPT:
        return _("The answer to the supervision order on case %(number)s is accepted; the "
                 "order is closed.") % params
    return _("The answer on case %(number)s is sent back to %(answering)s with your reason; "
             "it answers again by %(due_on)s, and you decide on the new answer.") % params


def _supervision_listed(params: dict) -> str:
    if params["listing"] == supervision_forms.ListSupervisionForm.LIST:
        return _("The supervision order on case %(number)s is listed on the county's board "
                 "(挂牌督办).") % params
    return _("The supervision order on case %(number)s is taken off the county's board; it "
             "stays open until you accept an answer.") % params


@dataclass(frozen=True)
class Step:
    form: type[forms.StepForm]
    service: Callable[..., object]
    button: Promise  # says what the button does
    # What happened and what comes next; %(number)s, %(unit)s and the fields (or a function
    # of them when the message depends on the choice made).
    done: Promise | Callable[[dict], str]


STEPS = {
    "answer_on_spot": Step(forms.AnswerForm, services.case_answer_on_spot,
                           gettext_lazy("Record the answer and finish"),
                           gettext_lazy("Case %(number)s was answered on the spot and is finished.")),
    "refuse": Step(forms.RefuseForm, services.case_refuse, gettext_lazy("Record as not accepted"),
                   gettext_lazy("Case %(number)s is recorded as not accepted. Print the "
                                "non-acceptance notice naming the competent channel for the "
                                "petitioner.")),
    "route": Step(forms.RouteForm, services.case_route, gettext_lazy("Route to the unit"),
                  gettext_lazy("Case %(number)s was routed to %(unit)s, which now signs for it "
                               "or asks to return it within the objection window.")),
    "sign": Step(forms.ConfirmForm, services.case_sign, gettext_lazy("Sign for the case"),
                 gettext_lazy("You signed for case %(number)s. Next: accept it and issue the "
                              "acceptance notice.")),
    "request_return": Step(forms.ReturnForm, services.case_request_return,
                           gettext_lazy("Ask to return the case"),
                           gettext_lazy("Your request to return case %(number)s went to the "
                                        "petition office, which agrees to it or refuses it.")),
    "agree_return": Step(forms.ConfirmForm, services.case_agree_return,
                         gettext_lazy("Take the case back"),
                         gettext_lazy("Case %(number)s is back with the petition office. Next: "
                                      "route it again.")),
    "refuse_return": Step(forms.ConfirmForm, services.case_refuse_return,
                          gettext_lazy("Refuse the return"),
                          gettext_lazy("The return was refused: %(unit)s keeps case %(number)s "
                                       "and handles it.")),
    "accept": Step(forms.ConfirmForm, services.case_accept,
                   gettext_lazy("Accept and issue the acceptance notice"),
                   gettext_lazy("Case %(number)s is accepted. The period for the written reply "
                                "has started; see its due day on the case page.")),
    "start_handling": Step(forms.ConfirmForm, services.case_start_handling,
                           gettext_lazy("Start handling"),
                           gettext_lazy("Handling of case %(number)s has started. Next: write "
                                        "the reply before its due day.")),
    "reply": Step(forms.DecisionForm, services.case_reply, gettext_lazy("Issue the written reply"),
                  gettext_lazy("The written reply on case %(number)s is issued. Next: record "
                               "its delivery; the review request window runs from that day.")),
    "request_review": Step(forms.ConfirmForm, services.case_request_review,
                           gettext_lazy("Record the review request"),
                           gettext_lazy("The review request on case %(number)s is recorded. "
                                        "Next: record the decision of the level above.")),
    "decide_review": Step(forms.ReviewDecisionForm, services.case_decide_review,
                          gettext_lazy("Record the review decision"),
                          gettext_lazy("The review decision on case %(number)s is recorded. "
                                       "Next: record its delivery to the petitioner.")),
    "request_rereview": Step(forms.ConfirmForm, services.case_request_rereview,
                             gettext_lazy("Record the re-review request"),
                             gettext_lazy("The re-review request on case %(number)s is "
                                          "recorded. Next: record the decision of the level "
                                          "above.")),
    "decide_rereview": Step(forms.RereviewDecisionForm, services.case_decide_rereview,
                            gettext_lazy("Record the re-review decision"),
                            gettext_lazy("The re-review decision on case %(number)s is "
                                         "recorded. Next: record its delivery to the "
                                         "petitioner.")),
    "close": Step(forms.ConfirmForm, services.case_close, gettext_lazy("Close the case"),
                  gettext_lazy("Case %(number)s is closed.")),
    "reopen": Step(forms.ReopenForm, services.case_reopen, gettext_lazy("Reopen the case"),
                   gettext_lazy("Case %(number)s is reopened and back with %(unit)s, with a new "
                                "period for the written reply.")),
    "deliver": Step(forms.DeliverForm, _deliver, gettext_lazy("Record the delivery"),
                    gettext_lazy("The delivery on %(delivered_on)s is recorded on case "
                                 "%(number)s; the petitioner's request window runs from that "
                                 "day.")),
    "extension": Step(forms.ExtensionForm, extension_request,
                      gettext_lazy("Ask the unit head for the extension"),
                      gettext_lazy("Your request for %(days)s more days on case %(number)s went "
                                   "to the head of the unit, who approves or refuses it.")),
    "assign_leader": Step(forms.LeaderForm, case_assign_leader, gettext_lazy("Assign the leader"),
                          gettext_lazy("%(leader)s now leads case %(number)s, with the deadline "
                                       "%(deadline)s.")),
    "note": Step(forms.NoteForm, case_note_add, gettext_lazy("Add the note"),
                 gettext_lazy("Your note is on the timeline of case %(number)s.")),
    "attach": Step(forms.AttachForm, case_attach, gettext_lazy("Attach the file"),
                   gettext_lazy("%(name)s is attached to case %(number)s and listed under "
                                "Documents; opening it is recorded.")),
    "commit": Step(forms.CommitForm, commitment_make, gettext_lazy("Record the commitment"),
                   gettext_lazy("The commitment on case %(number)s is recorded, due "
                                "%(due_on)s. It stays in the unit's inbox until you record "
                                "that it was kept.")),
    "keep": Step(forms.KeepForm, _on_row(commitment_keep),
                 gettext_lazy("Record that it was kept"),
                 gettext_lazy("The commitment due %(due_on)s on case %(number)s is recorded "
                              "as kept; the case page shows whether it was kept in time.")),
    "instruct": Step(forms.InstructForm, instruction_give, gettext_lazy("Give the instruction"),
                     gettext_lazy("Your instruction on case %(number)s is recorded. The unit "
                                  "handling it answers by %(due_on)s; you see the answer under "
                                  "“My cases” and on the case page.")),
    "answer_instruction": Step(forms.AnswerInstructionForm, _on_row(instruction_answer),
                               gettext_lazy("Send the answer"),
                               gettext_lazy("Your answer to the leader's instruction on case "
                                            "%(number)s is recorded; the leader reads it on the "
                                            "case page.")),
    "decide_extension": Step(forms.DecideExtensionForm, _on_row(extension_decide),
                             gettext_lazy("Record the decision"), _extension_decided),
    "supervise": Step(supervision_forms.SuperviseForm, supervision_issue,
                      gettext_lazy("Issue the supervision order"), _supervision_issued),
    # The forms below act on the case's order (``OnOrderForm``), which they hand the service.
    "answer_supervision": Step(supervision_forms.AnswerSupervisionForm,
                               _on_row(supervision_answer),
                               gettext_lazy("Send the answer to the supervisor"),
                               gettext_lazy("Your answer to the supervision order on case "
                                            "%(number)s is recorded. The supervisor accepts it "
                                            "or sends it back; you see the verdict on the case "
                                            "page.")),
    "decide_supervision": Step(supervision_forms.DecideSupervisionForm,
                               _on_row(supervision_decide), gettext_lazy("Record the verdict"),
                               _supervision_decided),
    "list_supervision": Step(supervision_forms.ListSupervisionForm, _on_row(supervision_list),
                             gettext_lazy("Record the change to the board"),
                             _supervision_listed),
}


@login_required
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, number: str, name: str) -> HttpResponse:
    spec = STEPS.get(name)
    if spec is None:
        raise Http404(_("There is no such step."))
    case = case_or_404(request, number)
    sent = request.method == "POST"
    form = spec.form(request.POST if sent else None, request.FILES if sent else None, case=case,
                     user=request.user, initial=_chosen(request))
    try:
        if sent and form.data.get("seen_status") != case.status:
            raise CaseChangedByOther()
        if not step_available(user=request.user, case=case, name=name, sent=sent):
            return _refused(request, case, _("The step “%(step)s” is not one you may take on "
                                             "case %(number)s now.")
                            % {"step": step_label(name), "number": case.number})
        if sent and form.is_valid():
            # What the service made or changed, for the message (the day a clock fell on).
            form.outcome = spec.service(case=case, actor=request.user, **form.arguments())
            return _done(request, case, _message(spec, _params(case, form)))
    except ValidationError as invalid:
        form.add_service_error(invalid)
    except PermissionDenied as refusal:
        return _refused(request, case, str(refusal))
    except CaseError as error:
        return _conflict(request, case, str(error))
    return _form_page(request, case, name, spec, form)


def _chosen(request: HttpRequest) -> dict:
    """Choices a link preselects (``?commitment=12`` from the row it sits beside)."""
    if request.method != "GET":
        return {}
    return {key: value for key, value in request.GET.items() if key != "seen_status"}


def _params(case: Case, form: forms.StepForm) -> dict:
    values = {key: _shown(value) for key, value in form.cleaned_data.items()}
    return {**values, **form.message_params(), "number": case.number,
            "unit": case.lead_unit.name if case.lead_unit else ""}


def _shown(value) -> str:
    """A typed value as the message names it: a day as the language writes it."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return day_text(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _message(spec: Step, params: dict) -> str:
    return spec.done(params) if callable(spec.done) else spec.done % params


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _form_page(request, case, name, spec, form) -> HttpResponse:
    form.mark_errors()
    context = {"case": case, "name": name, "label": step_label(name), "form": form,
               "button": spec.button,
               "action": reverse("cases:step", args=[case.number, name])}
    template = "cases/steps/_form.html" if _htmx(request) else "cases/steps/step.html"
    return render(request, template, context, status=200)


def _done(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    messages.success(request, message)
    url = reverse("cases:detail", args=[case.number])
    if _htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _refused(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    return render(request, "cases/_page_refused.html", {"case": case, "message": message},
                  status=403)


def _conflict(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    """Nothing was saved: back to the case page with the reason, or 409 for htmx."""
    if _htmx(request):
        return render(request, "cases/steps/_conflict.html", {"case": case, "message": message},
                      status=409)
    messages.error(request, message)
    return redirect("cases:detail", case.number)
