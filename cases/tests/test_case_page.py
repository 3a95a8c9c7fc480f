"""The case page, the identity reveal and the file download, through the real stack."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment
from accounts.tests.factories import UserFactory
from cases.choices import CaseStatus, EventKind
from cases.models import CaseEvent
from cases.services.leadership import case_assign_leader
from cases.services.records import case_attach, case_note_add
from cases.services.transitions import case_accept, case_reply, case_route, case_sign
from cases.tests.factories import (
    AttachmentFactory,
    CaseFactory,
    CasePetitionerFactory,
    DeadlineFactory,
    PetitionerFactory,
    demo_unit,
)
from cases.tests.helpers import REPLY

pytestmark = pytest.mark.django_db
TOWNSHIP = "341122100"  # 城关镇
OTHER_TOWNSHIP = "341122101"  # 河口镇
PDF = b"%PDF-1.4\n% a scanned letter\n"


def page_url(case) -> str:
    return reverse("cases:detail", args=[case.number])


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def signed_in(client, user, language: str = "zh-hans"):
    user.language = language
    user.save(update_fields=["language"])
    client.force_login(user)
    return client


def steps_offered(response) -> set[str]:
    return set(re.findall(r'data-step="([a-z_]+)"', response.content.decode()))


@pytest.fixture
def routed(clerk, handler, leader, head):
    """A case the bureau routed to 城关镇, signed for, with a leader, a note and a letter."""
    case = CaseFactory(place_unit=demo_unit("341122100001"), complained_person="某村干部")
    person = PetitionerFactory(name="张三丰", phone="13812345678", address="城关镇东关社区8号")
    CasePetitionerFactory(case=case, petitioner=person)
    case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
    case_sign(case=case, actor=handler)
    case_assign_leader(case=case, actor=clerk, leader=leader, measures="约谈村干部并现场核查",
                       deadline=timezone.localdate() + timedelta(days=30), responsible=head)
    case_note_add(case=case, actor=handler, text="已电话联系信访人，约定下周面谈")
    case_attach(case=case, actor=clerk, upload=upload("来信扫描件.pdf"))
    return case


@pytest.fixture
def accused(clerk):
    """A complaint about 城关镇, which also handles it: its members see the accuser masked."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP), complained_unit=demo_unit(TOWNSHIP))
    person = PetitionerFactory(name="张三丰", phone="13812345678", address="城关镇东关社区8号")
    CasePetitionerFactory(case=case, petitioner=person)
    case_attach(case=case, actor=clerk, upload=upload("举报信.pdf"), is_accusation_material=True)
    case_attach(case=case, actor=clerk, upload=upload("身份证复印件.pdf"))
    return case


@pytest.fixture
def overseen(county):
    """A case of 城关镇 without a leader in charge: the county leader over the township sees
    it as a leader of the place, the petitioner masked."""
    case = CaseFactory(status=CaseStatus.SIGNED, lead_unit=demo_unit(TOWNSHIP),
                       place_unit=demo_unit(TOWNSHIP))
    person = PetitionerFactory(name="张三丰", phone="13812345678", address="城关镇东关社区8号")
    CasePetitionerFactory(case=case, petitioner=person)
    return case


@pytest.fixture
def other_handler(county):
    """A handler of 河口镇, which has nothing to do with the 城关镇 cases."""
    user = UserFactory(username="hekou_handler", name="刘办理")
    RoleAssignment.objects.create(user=user, role=Role.HANDLER, unit=demo_unit(OTHER_TOWNSHIP))
    return user


# --- The page -----------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "steps"), [
    ("clerk", set()), ("handler", {"accept"}), ("head", {"accept"}), ("leader", set()),
    ("supervisor", set()),
])
def test_each_role_sees_the_page_with_only_its_own_steps(client, demo_users, routed, username,
                                                         steps):
    # given a routed and signed case
    signed_in(client, demo_users[username], "en")
    # when
    response = client.get(page_url(routed))
    # then every section is there, and only the steps this user may take
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1 and routed.number in html
    for section in ("The matter", "Petitioners", "Documents", "Clocks", "Written decisions",
                    "四定四包", "Timeline", "Steps you may take now"):
        assert section in html
    assert "征地补偿款未按期发放" in html and "某村干部" in html  # the matter's fields
    # the office, the lead unit and the leader in charge deal with the person: unmasked
    assert "张三丰" in html and "13812345678" in html and 'id="pd-reveal"' not in html
    assert "来信扫描件.pdf" in html
    assert steps_offered(response) == steps


def test_the_header_strip_and_the_clocks(client, handler, routed):
    signed_in(client, handler, "en")
    html = client.get(page_url(routed)).content.decode()
    strip = html.split('class="pd-case-strip"')[1].split("</dl>")[0]
    assert "Signed for" in strip and "城关镇" in strip and "陈副县长" in strip
    assert "Acceptance notice" in strip  # the next deadline: the unit's 15-day notice
    assert "How the due day was computed:" in html
    assert "Clock: Acceptance notice, 15 calendar days" in html  # deadline_explain's lines
    assert "Running" in strip and re.search(r"\d+ working days? left", strip)
    assert "Met on time" in html  # signing met the objection window


def test_clock_colours_follow_the_house_rules(client, handler, routed):
    # given a reply clock past its due day and an objection window that ran out unused
    from cases.tests.factories import DeadlineFactory

    past = timezone.now() - timedelta(days=3)
    DeadlineFactory(case=routed, kind="reply", length=60, unit="calendar", due_at=past)
    DeadlineFactory(case=routed, kind="review_request", is_window=True, due_at=past)
    signed_in(client, handler, "en")
    html = client.get(page_url(routed)).content.decode()
    clocks = html.split('id="pd-h-clocks"')[1].split("</section>")[0]
    # then the duty is red, with its days overdue, and the right is grey, never "overdue"
    assert re.search(r'Written reply</strong>\s*<span class="badge text-bg-danger">Overdue</span>',
                     clocks)
    assert re.search(r"\d+ days? overdue", clocks)
    assert re.search(r'Review request window</strong>\s*<span class="badge text-bg-secondary">'
                     r"Window ran out</span>", clocks)


def test_the_timeline_tells_every_event_oldest_first(client, handler, routed):
    signed_in(client, handler, "en")
    html = client.get(page_url(routed)).content.decode()
    timeline = html.split('id="pd-h-timeline"')[1]
    expected = ["Route to a unit: Registered → Routed, awaiting sign-for. Lead unit: 城关镇.",
                "Acceptance notice: 15 calendar days from",
                "Sign for: Routed, awaiting sign-for → Signed for.",
                "陈副县长 leads the case; person responsible 赵主任; deadline",
                "已电话联系信访人，约定下周面谈",
                "来信扫描件.pdf"]
    positions = [timeline.index(text) for text in expected]
    assert positions == sorted(positions)
    assert "李接待" in timeline and "王办理" in timeline  # the actors


def test_the_leader_sees_the_four_duties(client, leader, routed):
    signed_in(client, leader, "en")
    html = client.get(page_url(routed)).content.decode()
    section = html.split('id="pd-h-leadership"')[1].split("</section>")[0]
    assert "约谈村干部并现场核查" in section and "赵主任" in section
    assert section.count("not yet done") == 4
    assert "(包调查)" in section and "(包稳固)" in section


def test_a_reply_not_yet_delivered_says_so(client, handler, routed):
    case_accept(case=routed, actor=handler)
    case_reply(case=routed, actor=handler, decision=REPLY)
    signed_in(client, handler, "en")
    section = client.get(page_url(routed)).content.decode().split('id="pd-h-decisions"')[1]
    assert "Written reply" in section and "not yet delivered" in section
    assert "城关镇" in section and "《信访工作条例》第三十二条" in section


def test_a_handler_of_another_unit_gets_403_and_nothing_of_the_case(client, other_handler,
                                                                     routed):
    response = signed_in(client, other_handler).get(page_url(routed))
    assert response.status_code == 403
    html = response.content.decode()
    assert "征地补偿款" not in html and "张三丰" not in html and "城关镇" not in html


def test_an_unknown_number_is_404(client, clerk, routed):
    response = signed_in(client, clerk).get(reverse("cases:detail", args=["341122-2026-999999"]))
    assert response.status_code == 404


def test_someone_signed_out_is_sent_to_log_in(client, routed):
    response = client.get(page_url(routed))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_unit_complained_about_sees_the_petitioner_masked(client, handler, accused):
    # when a member of the accused unit opens the case
    html = signed_in(client, handler, "en").get(page_url(accused)).content.decode()
    # then the accuser is masked, no reveal is offered, no accusation material is listed
    assert "张**" in html and "138****5678" in html
    assert "张三丰" not in html and "13812345678" not in html and "城关镇东关社区8号" not in html
    assert 'id="pd-reveal"' not in html
    assert "举报信.pdf" not in html and "身份证复印件.pdf" in html
    assert "A file you may not open." in html  # the timeline does not name it either
    assert accused.query_code not in html
    # and a masked view is not a view of personal data
    assert not CaseEvent.objects.filter(case=accused, kind=EventKind.PERSONAL_DATA_VIEWED).exists()


def test_an_unmasked_view_is_an_audit_row(client, clerk, accused):
    signed_in(client, clerk).get(page_url(accused))
    row = CaseEvent.objects.get(case=accused, kind=EventKind.PERSONAL_DATA_VIEWED)
    assert row.actor == clerk


def test_the_views_are_listed_apart_from_the_steps(client, clerk, accused):
    # given the clerk opened the case three times (each view an audit row)
    signed_in(client, clerk, "en")
    for _ in range(3):
        html = client.get(page_url(accused)).content.decode()
    # then the timeline keeps to what happened, and the views are listed apart
    steps, log = html.split('class="pd-access-log')
    assert "Petitioner personal data viewed" not in steps and "Attachment added" in steps
    assert log.count("Petitioner personal data viewed") == 3 and "The latest" not in log


def test_the_access_log_shows_the_latest_twenty(client, clerk, accused):
    # given a case viewed 25 times
    signed_in(client, clerk, "en")
    for _ in range(25):
        client.get(page_url(accused))
    # when it is opened again, then the latest 20 views are listed, and it says so
    html = client.get(page_url(accused)).content.decode()
    log = html.split('class="pd-access-log')[1]
    assert log.count("Petitioner personal data viewed") == 20
    assert "The latest 20 are shown; the audit trail keeps every one." in log
    assert CaseEvent.objects.filter(case=accused, kind=EventKind.PERSONAL_DATA_VIEWED).count() == 26


# --- The reveal -------------------------------------------------------------------------

def reveal_url(case) -> str:
    return reverse("cases:reveal", args=[case.number])


def test_a_leader_of_the_place_reveals_with_a_reason(client, leader, overseen):
    # given a county leader not in charge of the case sees the petitioner masked, and is
    # offered the form
    signed_in(client, leader, "en")
    html = client.get(page_url(overseen)).content.decode()
    assert "张**" in html and "张三丰" not in html
    assert 'id="pd-reveal"' in html
    # when they reveal, saying why
    response = client.post(reveal_url(overseen), {"reason": "需联系信访人核实情况"})
    # then the page shows the petitioner, and the trail names them and their reason
    assert response.status_code == 200
    html = response.content.decode()
    assert "张三丰" in html and "Shown unmasked for this view only." in html
    event = CaseEvent.objects.get(case=overseen, kind=EventKind.IDENTITY_REVEALED)
    assert (event.actor, event.details["reason"]) == (leader, "需联系信访人核实情况")


def test_the_reveal_answers_htmx_with_the_section(client, leader, overseen):
    signed_in(client, leader, "en")
    response = client.post(reveal_url(overseen), {"reason": "核实身份"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="pd-petitioners"' in html and "张三丰" in html and 'id="pd-reveal"' not in html


def test_a_reveal_without_a_reason_asks_again_and_keeps_the_page(client, leader, overseen):
    signed_in(client, leader, "en")
    response = client.post(reveal_url(overseen), {"reason": "   "})
    html = response.content.decode()
    assert response.status_code == 200
    # the message in the summary at the top (a link to the field) and at the field
    assert html.count("Give the reason the petitioner&#x27;s identity is needed.") == 2
    assert "pd-error-summary" in html and 'href="#pd-reveal-reason"' in html
    assert re.search(r'<details class="pd-reveal mt-3" id="pd-reveal" open>', html)
    assert re.search(r'name="reason"[^>]*>   </textarea>', html)  # what was typed, kept
    assert not CaseEvent.objects.filter(kind=EventKind.IDENTITY_REVEALED).exists()


def test_a_reveal_without_a_reason_over_htmx_swaps_only_the_form(client, leader, overseen):
    signed_in(client, leader, "en")
    response = client.post(reveal_url(overseen), {"reason": ""}, HTTP_HX_REQUEST="true")
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#pd-reveal", "outerHTML")
    html = response.content.decode()
    assert "is-invalid" in html and "张三丰" not in html
    assert not CaseEvent.objects.filter(kind=EventKind.IDENTITY_REVEALED).exists()


def test_the_accused_may_not_reveal(client, handler, accused):
    response = signed_in(client, handler).post(reveal_url(accused), {"reason": "想知道是谁"})
    assert response.status_code == 403
    html = response.content.decode()
    assert accused.number in html and "张三丰" not in html
    assert f"您无权查看信访件 {accused.number} 的信访人身份信息" in html  # the service's message
    assert not CaseEvent.objects.filter(kind=EventKind.IDENTITY_REVEALED).exists()


def test_the_reveal_is_post_only_and_needs_the_csrf_token(leader, accused):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(leader)
    assert client.get(reveal_url(accused)).status_code == 405
    assert client.post(reveal_url(accused), {"reason": "核实"}).status_code == 403
    assert not CaseEvent.objects.filter(kind=EventKind.IDENTITY_REVEALED).exists()


# --- The download -----------------------------------------------------------------------

def file_url(case, name: str) -> str:
    attachment = case.attachments.get(original_name=name)
    return reverse("cases:attachment", args=[case.number, attachment.pk])


def test_the_download_streams_the_file_under_its_name(client, clerk, accused):
    response = signed_in(client, clerk).get(file_url(accused, "举报信.pdf"))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == PDF
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote('举报信.pdf')}" in disposition
    # and who opened which file is in the audit trail
    opened = CaseEvent.objects.get(case=accused, kind=EventKind.ATTACHMENT_VIEWED)
    assert (opened.actor, opened.details["name"]) == (clerk, "举报信.pdf")


def test_behind_nginx_the_file_goes_through_its_internal_location(client, clerk, accused,
                                                                  settings):
    # given the production setting naming nginx's internal location
    settings.ATTACHMENT_ACCEL_PREFIX = "/protected-media/"
    stored = accused.attachments.get(original_name="举报信.pdf").file.name
    # when the clerk downloads the file
    response = signed_in(client, clerk).get(file_url(accused, "举报信.pdf"))
    # then the view checked and audited, and nginx is told which stored file to send
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{stored}"
    assert response["Content-Type"] == "application/pdf"
    assert f"filename*=utf-8''{quote('举报信.pdf')}" in response["Content-Disposition"]
    assert CaseEvent.objects.filter(case=accused, kind=EventKind.ATTACHMENT_VIEWED).count() == 1


def test_accusation_material_never_reaches_the_accused(client, handler, accused):
    signed_in(client, handler)
    assert client.get(file_url(accused, "举报信.pdf")).status_code == 404
    assert client.get(file_url(accused, "身份证复印件.pdf")).status_code == 200
    assert [e.details["name"] for e in CaseEvent.objects.filter(
        case=accused, kind=EventKind.ATTACHMENT_VIEWED)] == ["身份证复印件.pdf"]


def test_a_file_of_another_case_or_an_unseen_case_is_refused(client, clerk, other_handler,
                                                              accused, routed):
    other = AttachmentFactory(case=routed)
    response = signed_in(client, clerk).get(
        reverse("cases:attachment", args=[accused.number, other.pk]))
    assert response.status_code == 404
    response = signed_in(client, other_handler).get(file_url(accused, "身份证复印件.pdf"))
    assert response.status_code == 403


# --- Cost and languages ------------------------------------------------------------------

def with_notes(case, actor, count: int):
    for n in range(count):
        case_note_add(case=case, actor=actor, text=f"第{n + 1}次跟进")
    return case


def test_the_page_costs_the_same_with_5_or_50_events(client, clerk, handler, leader, head,
                                                     django_assert_num_queries):
    # given two cases alike but for the length of their timelines
    def build(notes: int):
        case = CaseFactory(place_unit=demo_unit("341122100001"))
        CasePetitionerFactory(case=case)
        case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
        case_sign(case=case, actor=handler)
        case_assign_leader(case=case, actor=clerk, leader=leader, measures="核查",
                           deadline=timezone.localdate() + timedelta(days=30), responsible=head)
        case_attach(case=case, actor=clerk, upload=upload("扫描件.pdf"))
        return with_notes(case, handler, notes)

    short, long = build(5), build(50)
    signed_in(client, handler)
    # when / then
    with CaptureQueriesContext(connection) as short_queries:
        assert client.get(page_url(short)).status_code == 200
    with django_assert_num_queries(len(short_queries)):
        response = client.get(page_url(long))
    assert response.content.decode().count("次跟进") == 50


def test_the_page_costs_the_same_with_one_live_clock_or_three(client, clerk, handler,
                                                              django_assert_num_queries):
    # given two signed cases, one with its acceptance-notice clock running, the other with
    # two more clocks running beside it (each explained on the page with its pauses)
    def build(extra_clocks: tuple[str, ...]):
        case = CaseFactory(place_unit=demo_unit("341122100001"))
        CasePetitionerFactory(case=case)
        case_route(case=case, actor=clerk, lead_unit=demo_unit(TOWNSHIP))
        case_sign(case=case, actor=handler)
        for kind in extra_clocks:
            DeadlineFactory(case=case, kind=kind, due_at=timezone.now() + timedelta(days=9))
        return case

    one, three = build(()), build(("reply", "review_decision"))
    signed_in(client, handler, "en")
    # when / then
    with CaptureQueriesContext(connection) as one_queries:
        assert client.get(page_url(one)).status_code == 200
    with django_assert_num_queries(len(one_queries)):
        html = client.get(page_url(three)).content.decode()
    assert html.count("How the due day was computed:") == 3


def test_the_page_in_chinese_and_in_english(client, handler, routed):
    # Chinese by default: Chinese dates (2026年9月16日) and labels
    chinese = signed_in(client, handler).get(page_url(routed)).content.decode()
    assert '<html lang="zh-hans">' in chinese
    assert "2026年9月16日 09:30" in chinese  # received at, in the office's time zone
    assert "已签收" in chinese or "签收" in chinese
    # English on request: ISO dates
    english = signed_in(client, handler, "en").get(page_url(routed)).content.decode()
    assert '<html lang="en">' in english
    assert "2026-09-16 09:30" in english and "2026年" not in english
    assert "Signed for" in english
