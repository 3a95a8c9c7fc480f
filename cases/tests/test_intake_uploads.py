"""Files dropped on the intake form: kept under the form's token on every submit, moved onto
the case when it registers, never twice, never someone else's; stale ones purged after a day."""

from datetime import timedelta
from uuid import uuid4

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from accounts.models import RoleAssignment, User
from cases.choices import Channel, EventKind, Purpose
from cases.models import Attachment, Case, CaseEvent, IntakeUpload
from cases.models.handling import MAX_ATTACHMENT_BYTES
from cases.services.intake import (
    NewFile,
    case_register_once,
    intake_uploads_delete_stale,
    intake_uploads_stage,
)
from cases.services.registration import CaseIntake, PetitionerInput
from cases.tasks import intake_uploads_purge
from cases.tests.factories import CategoryFactory
from cases.tests.test_intake_form import ZHANG_ID, form_data, person, signed_in
from cases.tests.test_intake_marks import RECEIVED
from config.celery import app

pytestmark = pytest.mark.django_db

URL = reverse("cases:intake")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% a scanned letter\n"


def png(name: str = "来信扫描.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def matter(unit):
    return {"office": unit("341122-D00"), "category": CategoryFactory(name="征地拆迁"),
            "place": unit("341122100001")}


@pytest.fixture
def colleague(unit) -> User:
    """A second clerk of the same office."""
    user = User.objects.create_user(username="clerk2", password="x", name="钱接待")
    RoleAssignment.objects.create(user=user, role=Role.CLERK, unit=unit("341122-D00"))
    return user


# --- The service ---------------------------------------------------------------------------

def test_good_files_are_kept_and_bad_ones_named_with_their_reason(clerk, english):
    # given one form's token
    token = uuid4()
    # when a scan, an executable and a PNG that is really a PDF are sent
    staged = intake_uploads_stage(actor=clerk, token=token, files=[
        NewFile(png(), is_accusation_material=True), NewFile(png("setup.exe", b"MZ\x90")),
        NewFile(png("照片.png", PDF))])
    # then the scan is kept, flagged as it was sent
    [kept] = staged.kept
    assert (kept.original_name, kept.size, kept.is_accusation_material) == (
        "来信扫描.png", len(PNG), True)
    assert IntakeUpload.objects.get().uploaded_by == clerk
    assert default_storage.exists(kept.file.name)
    # and each refusal names its file and why
    assert len(staged.refused) == 2
    assert "setup.exe" in staged.refused[0] and "“exe” are not accepted" in staged.refused[0]
    assert "照片.png" in staged.refused[1] and "not a png file" in staged.refused[1]


def test_a_file_over_20_mb_is_refused_by_name(clerk, english):
    big = SimpleUploadedFile("大卷宗.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES)
    staged = intake_uploads_stage(actor=clerk, token=uuid4(), files=[NewFile(big)])
    assert staged.kept == [] and not IntakeUpload.objects.exists()
    [message] = staged.refused
    assert "大卷宗.pdf" in message and "at most 20 MB" in message


def test_the_same_file_sent_again_is_kept_once(clerk):
    token = uuid4()
    intake_uploads_stage(actor=clerk, token=token, files=[NewFile(png())])
    staged = intake_uploads_stage(actor=clerk, token=token, files=[NewFile(png()), NewFile(pdf())])
    assert [row.original_name for row in staged.kept] == ["来信扫描.png", "材料.pdf"]
    # a different file of the same name and size is another file
    other = png(content=b"\x89PNG\r\n\x1a\n" + b"\x01" * 64)
    staged = intake_uploads_stage(actor=clerk, token=token, files=[NewFile(other)])
    assert len(staged.kept) == 3


def test_kept_files_are_flagged_and_removed(clerk, django_capture_on_commit_callbacks):
    # given two files kept under a form
    token = uuid4()
    first, second = intake_uploads_stage(actor=clerk, token=token,
                                         files=[NewFile(png()), NewFile(pdf())]).kept
    name = second.file.name
    # when the clerk ticks the first as accusation material and removes the second
    with django_capture_on_commit_callbacks(execute=True):
        staged = intake_uploads_stage(actor=clerk, token=token, files=[],
                                      marks={first.pk: True, second.pk: False},
                                      remove={second.pk})
    # then the first is flagged, the second gone with its stored file
    assert [(row.pk, row.is_accusation_material) for row in staged.kept] == [(first.pk, True)]
    assert IntakeUpload.objects.get().is_accusation_material
    assert not default_storage.exists(name)


def test_someone_elses_token_is_refused(clerk, colleague):
    # given files the clerk dropped on a form
    token = uuid4()
    intake_uploads_stage(actor=clerk, token=token, files=[NewFile(png())])
    # when a colleague sends files, or removes the clerk's, under that token, it is refused
    with pytest.raises(PermissionDenied):
        intake_uploads_stage(actor=colleague, token=token, files=[NewFile(pdf())])
    kept = IntakeUpload.objects.get()
    with pytest.raises(PermissionDenied):
        intake_uploads_stage(actor=colleague, token=token, files=[], remove={kept.pk})
    assert IntakeUpload.objects.get() == kept


# --- Through the form ----------------------------------------------------------------------

def post(client, data, *files):
    """Send the form as a browser does: the fields, and the files under ``files``."""
    return client.post(URL, {**data, "files": list(files)})


def test_a_dropped_file_survives_an_error_and_is_attached_on_registering(client, clerk, matter,
                                                                        english):
    # given the clerk drops a scanned letter but forgets the facts
    signed_in(client, clerk, "en")
    data = form_data(matter, person("张三", ZHANG_ID), summary="", new_accusation="0")
    response = post(client, data, png())
    # then the form comes back with the error, listing the file it kept, flagged
    body = response.content.decode()
    assert response.status_code == 200 and not Case.objects.exists()
    kept = IntakeUpload.objects.get()
    assert kept.is_accusation_material and "来信扫描.png" in body
    assert f'name="kept" value="{kept.pk}"' in body
    assert f'name="kept_accusation" value="{kept.pk}"' in body
    stored = kept.file.name
    # when the clerk writes the facts and registers, sending the kept file's fields
    data.update(summary="征地补偿款未按期发放", kept=str(kept.pk), kept_accusation=str(kept.pk))
    del data["new_accusation"]
    response = post(client, data)
    # then the case has the file (the same stored file), with one audit row, and the
    # form's holding is gone
    case = Case.objects.get()
    assert response.status_code == 302
    attachment = Attachment.objects.get(case=case)
    assert (attachment.original_name, attachment.file.name) == ("来信扫描.png", stored)
    assert attachment.is_accusation_material and attachment.uploaded_by == clerk
    event = CaseEvent.objects.get(case=case, kind=EventKind.ATTACHMENT)
    assert event.details["attachment"] == attachment.pk and event.actor == clerk
    assert not IntakeUpload.objects.exists() and default_storage.exists(stored)
    # and the case page lists it
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "来信扫描.png" in page


def test_a_double_submit_attaches_each_file_once(client, clerk, matter):
    # given one form with two files
    signed_in(client, clerk)
    data = form_data(matter, person("张三", ZHANG_ID))
    # when it is sent twice, files and all (a double click)
    first = post(client, data, png(), pdf())
    second = post(client, data, png(), pdf())
    # then one case with each file once, and nothing left waiting
    case = Case.objects.get()
    assert first.status_code == second.status_code == 302
    assert sorted(Attachment.objects.filter(case=case).values_list("original_name", flat=True)) \
        == ["材料.pdf", "来信扫描.png"]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.ATTACHMENT).count() == 2
    assert not IntakeUpload.objects.exists()


def test_a_refused_file_stops_the_registration_and_is_named(client, clerk, matter):
    signed_in(client, clerk, "en")
    response = post(client, form_data(matter, person("张三", ZHANG_ID)), png(),
                    SimpleUploadedFile("病毒.exe", b"MZ\x90\x00"))
    body = response.content.decode()
    # then nothing registers until the clerk has seen it; the good file waits
    assert response.status_code == 200 and not Case.objects.exists()
    assert "病毒.exe" in body and "are not accepted" in body and 'href="#id_files"' in body
    assert IntakeUpload.objects.get().original_name == "来信扫描.png"
    # and sending the form again (without the bad file) registers with the good one
    data = form_data(matter, person("张三", ZHANG_ID), token=str(IntakeUpload.objects.get().token))
    assert post(client, data).status_code == 302
    assert Attachment.objects.get().original_name == "来信扫描.png"


def test_a_removed_file_is_not_attached(client, clerk, matter):
    signed_in(client, clerk)
    data = form_data(matter, person("张三", ZHANG_ID), summary="")
    post(client, data, png(), pdf())
    png_row, pdf_row = IntakeUpload.objects.order_by("pk")
    data.update(summary="征地补偿款未按期发放", kept=[str(png_row.pk), str(pdf_row.pk)],
                kept_remove=str(pdf_row.pk))
    assert post(client, data).status_code == 302
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["来信扫描.png"]


def test_registering_with_another_users_uploads_is_refused(clerk, colleague, unit):
    # given files the clerk dropped under a token
    token = uuid4()
    intake_uploads_stage(actor=clerk, token=token, files=[NewFile(png())])
    # when a colleague registers with that token, then nothing registers
    with pytest.raises(PermissionDenied):
        case_register_once(actor=colleague, office=unit("341122-D00"), intake=intake_of(unit),
                           token=token)
    assert not Case.objects.exists() and IntakeUpload.objects.count() == 1
    # and the clerk's own registration takes them
    result = case_register_once(actor=clerk, office=unit("341122-D00"), intake=intake_of(unit),
                                token=token)
    assert Attachment.objects.get().case == result.case


def intake_of(unit) -> CaseIntake:
    return CaseIntake(
        channel=Channel.VISIT, received_at=RECEIVED,
        petitioners=[PetitionerInput(name="张三", id_number=ZHANG_ID, address="城关镇",
                                     is_main=True)],
        purpose=Purpose.REMEDY, category=CategoryFactory(), summary="土地补偿款未发放",
        demands="请求发放补偿款", place_unit=unit("341122100001"))


# --- The daily purge -----------------------------------------------------------------------

def test_beat_purges_stale_uploads_daily():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["intake-uploads-purge-daily"]
    assert entry["task"] in app.tasks


def test_the_purge_deletes_uploads_older_than_a_day_and_their_files(
        clerk, django_capture_on_commit_callbacks):
    # given a file dropped 25 hours ago and one dropped an hour ago
    old = intake_uploads_stage(actor=clerk, token=uuid4(), files=[NewFile(png())]).kept[0]
    new = intake_uploads_stage(actor=clerk, token=uuid4(), files=[NewFile(pdf())]).kept[0]
    now = timezone.now()
    IntakeUpload.objects.filter(pk=old.pk).update(uploaded_at=now - timedelta(hours=25))
    IntakeUpload.objects.filter(pk=new.pk).update(uploaded_at=now - timedelta(hours=1))
    # when beat's task runs (twice: a rerun is harmless)
    with django_capture_on_commit_callbacks(execute=True):
        intake_uploads_purge.delay()
    with django_capture_on_commit_callbacks(execute=True):
        intake_uploads_purge.delay()
    # then the old one is gone with its file, the recent one stays
    assert list(IntakeUpload.objects.all()) == [new]
    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(new.file.name)


def test_a_form_still_in_use_keeps_its_older_files(clerk):
    # given a form whose letter was dropped 25 hours ago and a photo an hour ago
    token = uuid4()
    intake_uploads_stage(actor=clerk, token=token, files=[NewFile(png())])
    intake_uploads_stage(actor=clerk, token=token, files=[NewFile(pdf())])
    letter, photo = IntakeUpload.objects.filter(token=token).order_by("pk")
    now = timezone.now()
    IntakeUpload.objects.filter(pk=letter.pk).update(uploaded_at=now - timedelta(hours=25))
    IntakeUpload.objects.filter(pk=photo.pk).update(uploaded_at=now - timedelta(hours=1))
    # when the purge runs, then the form keeps both: it was used within the day
    intake_uploads_delete_stale(now=now)
    assert set(IntakeUpload.objects.values_list("pk", flat=True)) == {letter.pk, photo.pk}
