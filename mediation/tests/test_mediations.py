"""Mediation cases through the real stack (issue 11): opened from a grid report's triage,
mediated to an agreement, its court-confirmation window, the follow-up of its terms;
administrative mediation refused; a petition case sent to mediation and told the outcome;
who sees what; the pages' stale-version and bad-input answers; the numbers per committee."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cases.choices import CaseStatus, ClockKind, ClockStatus
from cases.choices import EventKind as CaseEventKind
from cases.deadlines.clocks import OFFICE_TZ
from cases.models import CaseEvent
from cases.services.undertakings import office_today
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    PetitionerFactory,
    demo_unit,
    valid_resident_id,
)
from mediation.agreements import (
    AgreementInput,
    CheckInput,
    TermInput,
    mediation_agreement_record,
    mediation_agreement_sign,
    mediation_conclude,
    mediation_confirmation_apply,
    mediation_court_answer,
    mediation_term_check,
    mediation_windows_lapse,
)
from mediation.clocks import dispute_clock_start
from mediation.mediation_pages import mediation_numbers, mediations_visible
from mediation.mediations import (
    MeetingInput,
    PartyTyped,
    mediation_consent_record,
    mediation_from_case,
    mediation_mediators_set,
    mediation_meeting_record,
    mediation_open,
    mediation_open_walk_in,
    mediation_party_add,
)
from mediation.models import (
    AfterDefault,
    DisputeClock,
    DisputeKind,
    EventKind,
    GridReport,
    MediationCase,
    MediationKind,
    MediationSource,
    MediationStatus,
    Performance,
    ReportParty,
    ReportStatus,
    Side,
)
from notifications.models import Notification

VILLAGE, TOWNSHIP, OTHER_TOWNSHIP = "341122100001", "341122100", "341122101"
D = date.fromisoformat


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=OFFICE_TZ)


def live(owner_field: str, owner, kind: str) -> DisputeClock | None:
    return DisputeClock.objects.filter(**{owner_field: owner}, kind=kind,
                                       status__in=("open", "paused")).first()


@pytest.fixture
def people(db):
    return {"zhang": PetitionerFactory(name="张三"), "li": PetitionerFactory(name="李四")}


@pytest.fixture
def report(grid, unit, people) -> GridReport:
    """A neighbours' dispute the centre triaged to the village (made as rows: the grid's
    services are another part of the issue)."""
    row = GridReport.objects.create(
        number="341122100-2026-0001", client_key=uuid.uuid4(), grid=unit(f"{VILLAGE}-G1"),
        township=unit(TOWNSHIP), reported_by=grid, found_at=at("2026-03-01", 9),
        received_at=at("2026-03-01", 9), kind=DisputeKind.NEIGHBOURS, place="东关社区3组",
        summary="张三与李四因排水沟堵塞发生争执", status=ReportStatus.TO_VILLAGE)
    ReportParty.objects.create(report=row, side=Side.APPLICANT, petitioner=people["zhang"])
    ReportParty.objects.create(report=row, side=Side.RESPONDENT, petitioner=people["li"])
    return row


def open_from_report(report, committees, mediator, village_mediator, **extra) -> MediationCase:
    return mediation_open(
        committee=committees[VILLAGE], kind=extra.pop("kind", MediationKind.PEOPLES),
        dispute_kind=DisputeKind.NEIGHBOURS, summary=report.summary,
        source=MediationSource.GRID_REPORT, actor=mediator, at=at("2026-03-02"), report=report,
        parties=[{"side": p.side, "petitioner_id": p.petitioner_id} for p in report.parties.all()],
        mediators=[village_mediator], **extra)


def meet(case, actor, day="2026-03-05") -> None:
    case.refresh_from_db()
    mediation_meeting_record(mediation=case, actor=actor, version=case.version, at=at(day, 16),
                             meeting=MeetingInput(held_on=D(day), place="东关社区调解室",
                                                  attendees="张三、李四、何调解",
                                                  record="双方陈述了排水沟堵塞的经过。"))


def agree(case, actor, *, signed="2026-03-10", signatures=True, terms=None):
    case.refresh_from_db()
    respondent = case.parties.get(side=Side.RESPONDENT).pk
    terms = terms or (TermInput(obligor=respondent, content="李四赔偿张三损失5000元",
                                manner="银行转账", due_on=D("2026-03-20")),
                      TermInput(obligor=respondent, content="李四疏通并修复排水沟",
                                manner="自行施工", due_on=D("2026-04-30")))
    return mediation_agreement_record(
        mediation=case, actor=actor, version=case.version, at=at(signed, 15),
        agreement=AgreementInput(form="written", facts="排水沟堵塞致张三院内积水",
                                 issues="李四负主要责任", signed_on=D(signed),
                                 parties_signed=signatures, mediator_signed=signatures,
                                 sealed=signatures, terms=terms))


def check(case, term, actor, day, result, **extra):
    case.refresh_from_db()
    return mediation_term_check(term=term, actor=actor, version=case.version, at=at(day, 17),
                                check=CheckInput(checked_on=D(day), result=result, **extra))


# --- From the village's triage to an agreement performed ------------------------------------

def test_triaged_to_the_village_mediated_to_an_agreement_and_performed(
        client, report, committees, mediator, village_mediator):
    # given the report's settling clock runs, and the township centre sends its dispute to
    # the village committee
    dispute_clock_start(owner=report, kind=ClockKind.REPORT_SETTLE, start=at("2026-03-01", 9),
                        at=at("2026-03-01", 9))
    case = open_from_report(report, committees, mediator, village_mediator)
    # then it is numbered per committee and year, its mediation clock runs, the mediator told
    assert case.number == f"{committees[VILLAGE].code}-2026-0001"
    assert case.status == MediationStatus.OPEN and case.parties.count() == 2
    assert live("mediation", case, ClockKind.MEDIATION).due_on == D("2026-04-01")
    assert case.events.filter(kind=EventKind.OPENED).exists()
    assert Notification.objects.filter(user=village_mediator, message="mediation.opened").exists()

    # when the village mediator records a meeting and a signed, sealed written agreement
    meet(case, village_mediator)
    agreement = agree(case, village_mediator)
    case.refresh_from_db()
    # then the case is concluded with it, and so is the report's dispute; the window and each
    # term's clock run from signing
    assert case.status == MediationStatus.AGREEMENT
    assert DisputeClock.objects.get(report=report, kind=ClockKind.REPORT_SETTLE).status == "met"
    assert DisputeClock.objects.get(mediation=case, kind=ClockKind.MEDIATION).status == "met"
    assert live("mediation", case, ClockKind.CONFIRMATION).due_on == D("2026-04-09")
    first, second = agreement.terms.order_by("position")
    assert live("term", first, ClockKind.PERFORMANCE).due_on == D("2026-03-20")
    assert live("term", second, ClockKind.PERFORMANCE).due_on == D("2026-04-30")

    # when the parties apply for confirmation inside the window and the court confirms
    case.refresh_from_db()
    mediation_confirmation_apply(mediation=case, applied_on=D("2026-03-25"), court="清河县人民法院",
                                 actor=village_mediator, version=case.version,
                                 at=at("2026-03-25"))
    case.refresh_from_db()
    mediation_court_answer(mediation=case, answer="confirmed", answered_on=D("2026-04-02"),
                           actor=village_mediator, version=case.version, at=at("2026-04-02"))
    # then the window is met, the answer recorded
    agreement.refresh_from_db()
    assert DisputeClock.objects.get(mediation=case, kind=ClockKind.CONFIRMATION).status == "met"
    assert (agreement.confirmation_applied_on, agreement.court_answer) == (D("2026-03-25"),
                                                                           "confirmed")

    # when the first term is performed, the second is not, and the mediator mediates again
    check(case, first, village_mediator, "2026-03-20", Performance.PERFORMED)
    check(case, second, village_mediator, "2026-04-30", Performance.NOT_PERFORMED,
          note="未修复", after_default=AfterDefault.MEDIATE_AGAIN)
    case.refresh_from_db()
    # then the case is open again with a new mediation clock; the second term's clock stopped
    assert case.status == MediationStatus.OPEN
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:case", args=[case.pk])).content.decode()
    assert 'id="id_conclude-follow_up_on"' in page  # the round may end standing by it
    assert live("mediation", case, ClockKind.MEDIATION).starts_on == D("2026-04-30")
    assert live("term", second, ClockKind.PERFORMANCE) is None

    # when the round ends with the parties standing by the agreement, and it is performed
    mediation_conclude(mediation=case, outcome=MediationStatus.AGREEMENT, note="李四承诺五月中旬修复",
                       follow_up_on=D("2026-05-15"), actor=village_mediator,
                       version=case.version, at=at("2026-05-06"))
    case.refresh_from_db()
    assert case.status == MediationStatus.AGREEMENT
    assert live("term", second, ClockKind.PERFORMANCE).due_on == D("2026-05-15")
    check(case, second, village_mediator, "2026-05-15", Performance.PERFORMED)
    # then every term is performed: so is the case
    case.refresh_from_db()
    assert case.status == MediationStatus.PERFORMED
    assert live("term", second, ClockKind.PERFORMANCE) is None


# --- The confirmation window, and terms in default --------------------------------------------

@pytest.fixture
def agreed(report, committees, mediator, village_mediator) -> MediationCase:
    """The village's case with a written agreement signed and sealed on 2026-03-10."""
    case = open_from_report(report, committees, mediator, village_mediator)
    meet(case, village_mediator)
    agree(case, village_mediator)
    case.refresh_from_db()
    return case


def test_a_late_application_for_confirmation_is_refused_and_the_window_lapses(
        agreed, village_mediator, english):
    # when the parties apply on 2026-04-15, after the 30 days from 2026-03-10
    with pytest.raises(ValidationError) as refused:
        mediation_confirmation_apply(mediation=agreed, applied_on=D("2026-04-15"),
                                     court="清河县人民法院", actor=village_mediator,
                                     version=agreed.version, at=at("2026-04-15"))
    # then it is refused citing Art. 33, and the unused window is closed as lapsed
    assert refused.value.code == "window_closed"
    assert "Art. 33" in refused.value.messages[0] and "2026-04-09" in refused.value.messages[0]
    window = DisputeClock.objects.get(mediation=agreed, kind=ClockKind.CONFIRMATION)
    assert window.status == ClockStatus.LAPSED
    assert agreed.agreement.confirmation_applied_on is None


def test_an_unused_window_lapses_when_it_runs_out(agreed):
    # given the window runs to 2026-04-09
    # when the lapse runs before and after the day
    assert mediation_windows_lapse(now=at("2026-04-09", 23)) == 0
    assert mediation_windows_lapse(now=at("2026-04-10", 1)) == 1
    # then the window is lapsed, not met
    window = DisputeClock.objects.get(mediation=agreed, kind=ClockKind.CONFIRMATION)
    assert (window.status, window.closed_at) == (ClockStatus.LAPSED, at("2026-04-10", 1))


def test_an_application_made_in_time_is_taken_after_the_window_was_closed(
        agreed, village_mediator):
    # given the nightly run closed the unused window after its last day, 2026-04-09
    assert mediation_windows_lapse(now=at("2026-04-10", 1)) == 1
    # when the mediator records on 04-11 that the parties applied on 04-08
    made = mediation_confirmation_apply(mediation=agreed, applied_on=D("2026-04-08"),
                                        court="清河县人民法院", actor=village_mediator,
                                        version=agreed.version, at=at("2026-04-11"))
    # then the application stands, and the window counts as used in time
    assert made.confirmation_applied_on == D("2026-04-08")
    window = DisputeClock.objects.get(mediation=agreed, kind=ClockKind.CONFIRMATION)
    assert window.status == ClockStatus.MET


def test_a_term_not_performed_points_the_parties_to_the_court(agreed, village_mediator):
    # given the agreement's two terms
    first, second = agreed.agreement.terms.order_by("position")
    # when the first is not performed and the mediator points the parties to the court
    check(agreed, first, village_mediator, "2026-03-20", Performance.NOT_PERFORMED,
          note="李四拒绝赔偿", after_default=AfterDefault.TO_COURT)
    check(agreed, second, village_mediator, "2026-04-30", Performance.PERFORMED)
    # then the case stays concluded with its agreement; the first term's clock stopped
    agreed.refresh_from_db()
    assert agreed.status == MediationStatus.AGREEMENT
    assert DisputeClock.objects.get(term=first).status == ClockStatus.CANCELLED
    assert DisputeClock.objects.get(term=second).status == ClockStatus.MET
    assert first.checks.get().after_default == AfterDefault.TO_COURT
    assert live("mediation", agreed, ClockKind.MEDIATION) is None


def test_a_default_is_not_recorded_before_the_terms_day(agreed, village_mediator):
    first = agreed.agreement.terms.get(position=1)
    with pytest.raises(ValidationError) as refused:
        check(agreed, first, village_mediator, "2026-03-15", Performance.NOT_PERFORMED,
              note="未付", after_default=AfterDefault.TO_COURT)
    assert "checked_on" in refused.value.error_dict


def test_a_term_due_before_the_signing_day_is_refused(report, committees, mediator,
                                                      village_mediator):
    case = open_from_report(report, committees, mediator, village_mediator)
    meet(case, village_mediator)
    respondent = case.parties.get(side=Side.RESPONDENT).pk
    with pytest.raises(ValidationError) as refused:
        agree(case, village_mediator, terms=(TermInput(obligor=respondent, content="赔偿",
                                                       manner="现金", due_on=D("2026-03-05")),))
    assert refused.value.code == "term_due"


def test_a_written_agreement_waits_for_the_signatures_and_the_seal(
        report, committees, mediator, village_mediator):
    # given an agreement drawn up, printed for signing, not signed yet
    case = open_from_report(report, committees, mediator, village_mediator)
    meet(case, village_mediator)
    agree(case, village_mediator, signatures=False)
    case.refresh_from_db()
    # then it is not in effect: the case is open, no window runs
    assert case.status == MediationStatus.OPEN
    assert live("mediation", case, ClockKind.CONFIRMATION) is None
    # when the parties sign on 2026-03-12 and the committee seals it
    mediation_agreement_sign(mediation=case, signed_on=D("2026-03-12"), parties_signed=True,
                             mediator_signed=True, sealed=True, actor=village_mediator,
                             version=case.version, at=at("2026-03-12"))
    # then it takes effect that day: the window runs from it (its last day, Saturday
    # 2026-04-11, moved to the Monday)
    case.refresh_from_db()
    assert case.status == MediationStatus.AGREEMENT
    assert live("mediation", case, ClockKind.CONFIRMATION).due_on == D("2026-04-13")


# --- Consent ----------------------------------------------------------------------------------

def test_administrative_mediation_needs_consent_and_a_refusal_ends_it(
        client, report, committees, mediator, village_mediator):
    # given an administrative mediation; nobody has consented yet
    case = open_from_report(report, committees, mediator, village_mediator,
                            kind=MediationKind.ADMINISTRATIVE)
    # then no meeting may be recorded
    with pytest.raises(ValidationError) as refused:
        meet(case, village_mediator)
    assert refused.value.code == "consent"
    # when the applicant consents and the respondent refuses
    applicant, respondent = (case.parties.get(side=Side.APPLICANT),
                             case.parties.get(side=Side.RESPONDENT))
    mediation_consent_record(mediation=case, party=applicant, consents=True,
                             actor=village_mediator, version=case.version, at=at("2026-03-03"))
    case.refresh_from_db()
    mediation_consent_record(mediation=case, party=respondent, consents=False, note="不同意调解",
                             actor=village_mediator, version=case.version, at=at("2026-03-03"))
    # then the mediation ends without agreement, its clock met, and the page says the court
    # stays open
    case.refresh_from_db()
    assert case.status == MediationStatus.NO_AGREEMENT
    assert DisputeClock.objects.get(mediation=case, kind=ClockKind.MEDIATION).status == "met"
    assert case.events.filter(kind=EventKind.CONCLUDED, details__reason="refused").exists()
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:case", args=[case.pk]))
    assert page.status_code == 200
    assert b"data-court-note" in page.content


# --- From a petition case, and back -----------------------------------------------------------

def test_a_petition_case_sent_to_mediation_is_told_its_outcome(client, handler, mediator,
                                                               committees, people):
    # given a case the township handles, with its petitioner
    case = CaseFactory(lead_unit=demo_unit(TOWNSHIP), status=CaseStatus.IN_HANDLING)
    CasePetitionerFactory(case=case, petitioner=people["zhang"])
    client.force_login(handler)
    panel = render_to_string("mediation/_case_link.html", {"case": case, "user": handler})
    assert 'data-action="send_to_mediation"' in panel
    # when the handler sends it to the township's committee
    answer = client.post(reverse("mediation:send", args=[case.number]), {
        "committee": committees[TOWNSHIP].pk, "kind": MediationKind.PEOPLES,
        "dispute_kind": DisputeKind.COMPENSATION})
    assert answer.status_code == 302
    mediation = MediationCase.objects.get(petition_case=case)
    # then the mediation has the petitioner as applicant, and the case's trail records it
    assert mediation.source == MediationSource.PETITION_CASE
    assert mediation.parties.get().petitioner == people["zhang"]
    assert CaseEvent.objects.filter(case=case, kind=CaseEventKind.SENT_TO_MEDIATION).exists()
    # when the township mediator adds the respondent, meets, and records an oral agreement
    version = mediation.version
    mediation_party_add(mediation=mediation, party=PartyTyped(side=Side.RESPONDENT,
                                                              organisation="清河建筑公司"),
                        actor=mediator, version=version)
    mediation.refresh_from_db()
    mediation_mediators_set(mediation=mediation, mediators=[mediator], actor=mediator,
                            version=mediation.version)
    meet(mediation, mediator, day=office_today().isoformat())
    mediation.refresh_from_db()
    respondent = mediation.parties.get(side=Side.RESPONDENT).pk
    mediation_agreement_record(
        mediation=mediation, actor=mediator, version=mediation.version,
        agreement=AgreementInput(form="oral", facts="拖欠工程款", issues="公司应付款",
                                 signed_on=office_today(), parties_signed=False,
                                 mediator_signed=False, sealed=False,
                                 terms=(TermInput(obligor=respondent, content="支付工程款",
                                                  manner="转账", due_on=office_today()),)))
    # then the case's trail records the outcome; its page's panel shows it
    outcome = CaseEvent.objects.get(case=case, kind=CaseEventKind.MEDIATION_OUTCOME)
    assert outcome.details["status"] == MediationStatus.AGREEMENT
    assert live("mediation", mediation, ClockKind.CONFIRMATION) is None  # oral: no window
    panel = render_to_string("mediation/_case_link.html", {"case": case, "user": handler})
    assert f'data-mediation="{mediation.number}"' in panel
    assert 'data-mediation-status="agreement"' in panel


@pytest.mark.django_db(transaction=True)
def test_the_send_page_works_outside_a_test_transaction(client, handler, committees, people):
    # given the clock rules (a transactional test empties them) and a case in handling
    from cases.deadlines.rules import rules_seed
    from cases.models import DeadlineRule

    rules_seed(DeadlineRule)
    case = CaseFactory(lead_unit=demo_unit(TOWNSHIP), status=CaseStatus.IN_HANDLING)
    CasePetitionerFactory(case=case, petitioner=people["zhang"])
    client.force_login(handler)
    # when the handler sends it, each request in its own transaction as in production
    answer = client.post(reverse("mediation:send", args=[case.number]), {
        "committee": committees[TOWNSHIP].pk, "kind": MediationKind.PEOPLES,
        "dispute_kind": DisputeKind.COMPENSATION})
    # then it is sent: the service takes its own transaction for its row locks
    assert answer.status_code == 302
    assert MediationCase.objects.filter(petition_case=case).exists()


def test_a_closed_petition_case_is_not_sent(handler, committees, people):
    case = CaseFactory(lead_unit=demo_unit(TOWNSHIP), status=CaseStatus.CLOSED)
    with pytest.raises(ValidationError) as refused:
        mediation_from_case(case=case, committee=committees[TOWNSHIP], kind="peoples",
                            actor=handler)
    assert refused.value.code == "case_status"


def test_a_case_is_sent_only_to_a_committee_of_its_county(handler, committees, people):
    # given a case the township handles, and a committee of the neighbouring county
    from accounts.choices import UnitKind
    from accounts.services import org_unit_create
    from mediation.models import Committee, CommitteeKind

    case = CaseFactory(lead_unit=demo_unit(TOWNSHIP), status=CaseStatus.IN_HANDLING)
    neighbour = org_unit_create(name="邻县", kind=UnitKind.COUNTY, code="341123", parent=None)
    town = org_unit_create(name="邻镇", kind=UnitKind.TOWNSHIP, code="341123100",
                           parent=neighbour)
    elsewhere = Committee.objects.create(name="邻镇人民调解委员会", kind=CommitteeKind.TOWNSHIP,
                                         unit=town, code="341123100-TJ")
    # when the handler sends the case there, then the service itself refuses, at the committee
    with pytest.raises(ValidationError) as refused:
        mediation_from_case(case=case, committee=elsewhere, kind="peoples", actor=handler)
    assert "committee" in refused.value.error_dict
    assert not case.mediations.exists()


def test_a_case_is_not_sent_to_the_committee_of_the_unit_it_complains_about(
        handler, committees, people):
    # given a case handled by 城关镇 that complains about 城关镇's 东关社区
    case = CaseFactory(lead_unit=demo_unit(TOWNSHIP), status=CaseStatus.IN_HANDLING,
                       complained_unit=demo_unit(VILLAGE))
    # when the handler picks that community's committee, then it is refused (R22 Art.30)
    with pytest.raises(ValidationError) as refused:
        mediation_from_case(case=case, committee=committees[VILLAGE], kind="peoples",
                            actor=handler)
    assert "committee" in refused.value.error_dict
    assert not case.mediations.exists()


# --- Who sees what --------------------------------------------------------------------------

@pytest.fixture
def other_mediator(db, unit):
    """A mediator of another township (河口镇)."""
    from accounts.services import role_grant
    from accounts.tests.factories import UserFactory

    user = UserFactory(username="hekou_mediator", name="孙调解")
    role_grant(user=user, role="mediator", unit=unit(OTHER_TOWNSHIP))
    return user


def walk_in(committee, actor, *, at_=None, name="王五") -> MediationCase:
    return mediation_open_walk_in(
        committee=committee, kind=MediationKind.PEOPLES, dispute_kind=DisputeKind.FAMILY,
        summary="赡养纠纷", actor=actor, mediators=[actor], at=at_,
        parties=[PartyTyped(side=Side.APPLICANT, name=name, phone="13900001111"),
                 PartyTyped(side=Side.RESPONDENT, name="赵六")])


def test_a_mediator_sees_only_their_committees_cases(client, committees, mediator,
                                                     village_mediator, other_mediator):
    # given a case of the village's committee, one of the township's, one of another township
    village = walk_in(committees[VILLAGE], village_mediator)
    township = walk_in(committees[TOWNSHIP], mediator)
    other = walk_in(committees[OTHER_TOWNSHIP], other_mediator)
    # then the village's mediator sees the village's; the township's its own and its villages'
    assert set(mediations_visible(user=village_mediator)) == {village}
    assert set(mediations_visible(user=mediator)) == {village, township}
    assert set(mediations_visible(user=other_mediator)) == {other}
    # and through the pages: another committee's case is not found, nor is a step on it
    client.force_login(village_mediator)
    assert client.get(reverse("mediation:case", args=[township.pk])).status_code == 404
    assert client.post(reverse("mediation:case_step", args=[township.pk, "meeting"]),
                       {"meeting-version": township.version}).status_code == 404
    listed = client.get(reverse("mediation:cases")).content.decode()
    assert village.number in listed and township.number not in listed
    # and a village's mediator is no mediator of the township's committee
    with pytest.raises(ValidationError) as refused:
        mediation_mediators_set(mediation=township, mediators=[village_mediator],
                                actor=mediator, version=township.version)
    assert "mediators" in refused.value.error_dict


def test_the_list_pages_keep_its_filters(client, committees, village_mediator):
    # given 51 people's mediation cases, one more than a page holds
    opened = [walk_in(committees[VILLAGE], village_mediator, name=f"王{n}") for n in range(51)]
    client.force_login(village_mediator)
    # when the mediator filters the list by kind, and follows its Next link
    first = client.get(reverse("mediation:cases"), {"kind": "peoples", "page": "1"})
    html = first.content.decode()
    assert 'href="?kind=peoples&amp;page=2"' in html and "page=0" not in html
    second = client.get(reverse("mediation:cases"), {"kind": "peoples", "page": "2"}).content
    # then the second page holds the one case left, with the filter still chosen
    listed = [case.number for case in opened if f'data-case="{case.number}"'.encode() in second]
    assert len(listed) == 1
    assert b'href="?kind=peoples&amp;page=1"' in second and b"page=3" not in second


def test_a_supervisor_sees_but_may_not_act(client, committees, village_mediator, supervisor):
    case = walk_in(committees[VILLAGE], village_mediator)
    client.force_login(supervisor)
    page = client.get(reverse("mediation:case", args=[case.pk]))
    assert page.status_code == 200
    assert "王五".encode() not in page.content  # the names are masked for those who oversee
    answer = client.post(reverse("mediation:case_step", args=[case.pk, "meeting"]),
                         {"meeting-version": case.version})
    assert answer.status_code == 403


def test_the_terms_name_the_party_bound_masked_for_those_who_oversee(client, agreed,
                                                                      village_mediator,
                                                                      supervisor):
    # given the agreement binds 李四 to both terms
    bound = '<tr data-term="1">\n        <td>1</td><td>{}</td>'
    # then the mediator who works the case reads the name; the supervisor only the surname
    client.force_login(village_mediator)
    assert bound.format("李四") in client.get(reverse("mediation:case", args=[agreed.pk])
                                            ).content.decode()
    client.force_login(supervisor)
    page = client.get(reverse("mediation:case", args=[agreed.pk])).content.decode()
    assert bound.format("李*") in page and bound.format("李四") not in page


# --- The pages: stale versions, bad input, the home page ---------------------------------------

def _meeting_post(case, **values) -> dict:
    data = {"meeting-version": case.version, "meeting-held_on": office_today().isoformat(),
            "meeting-place": "西关社区调解室", "meeting-attendees": "王五、赵六",
            "meeting-record": "双方同意继续协商。"}
    data.update({f"meeting-{key}": value for key, value in values.items()})
    return data


def test_a_stale_version_is_409_and_keeps_what_was_typed(client, committees, village_mediator):
    # given the page was read at one version, and someone recorded a meeting since
    case = walk_in(committees[VILLAGE], village_mediator, at_=timezone.now())
    read_at = case.version
    meet(case, village_mediator, day=office_today().isoformat())
    # when the first page is sent
    client.force_login(village_mediator)
    answer = client.post(reverse("mediation:case_step", args=[case.pk, "meeting"]),
                         _meeting_post(case, version=read_at, place="柳树村村委会"))
    # then 409, the message, and the typed place kept; nothing recorded
    assert answer.status_code == 409
    assert "柳树村村委会".encode() in answer.content
    assert case.meetings.count() == 1


def test_bad_input_keeps_what_was_typed(client, committees, village_mediator):
    case = walk_in(committees[VILLAGE], village_mediator, at_=timezone.now())
    client.force_login(village_mediator)
    # when the record is left empty
    answer = client.post(reverse("mediation:case_step", args=[case.pk, "meeting"]),
                         _meeting_post(case, record="", place="柳树村村委会"))
    # then the page again: the error at the field, the place kept, nothing recorded
    assert answer.status_code == 200
    assert b"pd-error-summary" in answer.content and b'href="#id_meeting-record"' in answer.content
    assert "柳树村村委会".encode() in answer.content
    assert not case.meetings.exists()
    # when a meeting day is in the future (the service's check)
    answer = client.post(reverse("mediation:case_step", args=[case.pk, "meeting"]),
                         _meeting_post(case, held_on="2099-01-01", place="柳树村村委会"))
    assert answer.status_code == 200 and b'href="#id_meeting-held_on"' in answer.content
    assert "柳树村村委会".encode() in answer.content
    # when a new case is opened with a bad ID number
    answer = client.post(reverse("mediation:case_new"), {
        "committee": committees[VILLAGE].pk, "kind": "peoples", "dispute_kind": "family",
        "summary": "赡养纠纷", "mediators": [village_mediator.pk],
        "applicant-name": "钱七", "applicant-id_type": "resident_id",
        "applicant-id_number": "341122198001010000"})
    assert answer.status_code == 200 and "钱七".encode() in answer.content
    assert b'href="#id_applicant-id_number"' in answer.content
    assert not MediationCase.objects.filter(summary="赡养纠纷").exclude(pk=case.pk).exists()


def test_a_walk_in_case_is_opened_from_the_form(client, committees, village_mediator):
    client.force_login(village_mediator)
    answer = client.post(reverse("mediation:case_new"), {
        "committee": committees[VILLAGE].pk, "kind": "peoples", "dispute_kind": "labour",
        "summary": "拖欠工资", "mediators": [village_mediator.pk],
        "applicant-name": "钱七", "applicant-id_type": "resident_id",
        "applicant-phone": "13900002222", "respondent-organisation": "清河食品厂"})
    case = MediationCase.objects.get(summary="拖欠工资")
    assert answer.status_code == 302 and answer["Location"] == reverse("mediation:case",
                                                                       args=[case.pk])
    assert {(p.side, p.organisation or p.petitioner.name) for p in case.parties.all()} == {
        ("applicant", "钱七"), ("respondent", "清河食品厂")}


def test_an_id_number_on_file_under_another_name_is_refused_at_the_desk(
        client, committees, village_mediator, people):
    # given 李四 on file with his ID number and phone, and the mediator working in English
    people["li"].id_number = valid_resident_id(9)
    people["li"].phone = "13700009999"
    people["li"].save()
    village_mediator.language = "en"
    village_mediator.save(update_fields=["language"])
    client.force_login(village_mediator)
    # when a walk-in is typed with his ID number under another name
    answer = client.post(reverse("mediation:case_new"), {
        "committee": committees[VILLAGE].pk, "kind": "peoples", "dispute_kind": "labour",
        "summary": "拖欠工资", "mediators": [village_mediator.pk],
        "applicant-name": "钱七", "applicant-id_type": "resident_id",
        "applicant-id_number": valid_resident_id(9), "applicant-phone": "13900002222",
        "respondent-organisation": "清河食品厂"})
    # then it is refused, saying so, and shows nothing of 李四, whose record is as it was
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "The ID number typed for 钱七 is on file under another name." in page
    assert "李四" not in page and "13700009999" not in page and "钱七" in page
    assert not MediationCase.objects.filter(summary="拖欠工资").exists()
    people["li"].refresh_from_db()
    assert people["li"].phone == "13700009999" and people["li"].name == "李四"


def test_the_home_page_lists_open_cases_overdue_first(client, committees, village_mediator):
    # given a case opened long ago (its month ran out) and one opened today
    late = walk_in(committees[VILLAGE], village_mediator, at_=at("2026-03-02"), name="早案")
    fresh = walk_in(committees[VILLAGE], village_mediator, at_=timezone.now(), name="新案")
    client.force_login(village_mediator)
    page = client.get(reverse("mediation:home")).content.decode()
    # then both are listed, the overdue one first and marked
    assert page.index(late.number) < page.index(fresh.number)
    assert f'data-case="{late.number}" data-overdue' in page


# --- The numbers per committee and year ---------------------------------------------------------

def test_the_numbers_per_committee(client, committees, village_mediator, mediator, agreed,
                                   django_assert_num_queries):
    # given the village's agreed case, one withdrawn there, one open at the township
    reopened = walk_in(committees[VILLAGE], village_mediator, at_=at("2026-03-02"))
    meet(reopened, village_mediator)
    agree(reopened, village_mediator)
    reopened.refresh_from_db()
    first = reopened.agreement.terms.get(position=1)
    check(reopened, first, village_mediator, "2026-03-21", Performance.NOT_PERFORMED,
          note="未赔偿", after_default=AfterDefault.MEDIATE_AGAIN)  # and one mediated again
    withdrawn = walk_in(committees[VILLAGE], village_mediator, at_=at("2026-05-02"))
    mediation_conclude(mediation=withdrawn, outcome=MediationStatus.WITHDRAWN, note="申请人撤回",
                       actor=village_mediator, version=withdrawn.version, at=at("2026-05-03"))
    walk_in(committees[TOWNSHIP], mediator, at_=at("2026-06-01"))
    walk_in(committees[TOWNSHIP], mediator, at_=at("2025-06-01"))  # another year
    # when the township's mediator asks for 2026 (one query)
    with django_assert_num_queries(1):
        rows = mediation_numbers(user=mediator, year=2026)
    by_code = {row["committee__code"]: row for row in rows}
    # then per committee: opened, agreements, withdrawn, open
    village = by_code[committees[VILLAGE].code]
    assert (village["opened"], village["agreements"], village["withdrawn"],
            village["still_open"]) == (3, 1, 1, 1)  # the reopened one counted once, as open
    assert by_code[committees[TOWNSHIP].code]["opened"] == 1
    client.force_login(mediator)
    page = client.get(reverse("mediation:numbers") + "?year=2026")
    assert f'data-committee="{committees[VILLAGE].code}"'.encode() in page.content


def test_the_steps_through_the_pages(client, committees, village_mediator):
    # given a walk-in case opened today, worked from its page
    case = walk_in(committees[VILLAGE], village_mediator, at_=timezone.now())
    today = office_today().isoformat()
    client.force_login(village_mediator)

    def post(step, data, url=None):
        case.refresh_from_db()
        url = url or reverse("mediation:case_step", args=[case.pk, step])
        prefix = step if not url.endswith("/check/") else data.pop("_prefix")
        answer = client.post(url, {f"{prefix}-version": case.version,
                                   **{f"{prefix}-{k}": v for k, v in data.items()}})
        assert answer.status_code == 302, answer.content.decode()[:3000]

    respondent = case.parties.get(side=Side.RESPONDENT)
    # when a meeting, an agreement drawn up for signing, then its signing are recorded
    post("meeting", {"held_on": today, "place": "调解室", "attendees": "王五、赵六",
                     "record": "达成一致。"})
    post("agreement", {"form": "written", "facts": "赡养费未付", "issues": "赵六应付",
                       "signed_on": today, "term1_obligor": respondent.pk,
                       "term1_content": "支付赡养费", "term1_manner": "现金",
                       "term1_due_on": today})
    case.refresh_from_db()
    assert case.status == MediationStatus.OPEN and case.agreement.terms.count() == 1
    post("sign", {"signed_on": today, "parties_signed": "on", "mediator_signed": "on",
                  "sealed": "on"})
    case.refresh_from_db()
    assert case.status == MediationStatus.AGREEMENT
    # when the term is followed up as performed
    term = case.agreement.terms.get()
    post("check", {"_prefix": f"t{term.pk}", "checked_on": today, "result": "performed"},
         url=reverse("mediation:term_check", args=[case.pk, term.pk]))
    # then the case is performed
    case.refresh_from_db()
    assert case.status == MediationStatus.PERFORMED
