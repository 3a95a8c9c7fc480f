"""Notes and attachments: permission, type, content and size checks, audit rows."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.choices import EventKind
from cases.models import Attachment, CaseEvent
from cases.models.handling import MAX_ATTACHMENT_BYTES
from cases.services.records import case_attach, case_note_add
from cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def case(clerk):
    return CaseFactory(registered_by=clerk)


def test_the_clerk_attaches_a_scan_and_the_trail_says_so(case, clerk):
    # when
    attachment = case_attach(case=case, actor=clerk,
                             upload=SimpleUploadedFile("信件扫描.png", PNG))
    # then
    assert attachment.size == len(PNG)
    event = CaseEvent.objects.get(case=case, kind=EventKind.ATTACHMENT)
    assert event.details["attachment"] == attachment.pk and event.actor == clerk


def test_the_stored_name_is_random_and_the_original_is_kept_apart(case, clerk):
    # when a file with the petitioner's own name in it is attached
    row = case_attach(case=case, actor=clerk, upload=SimpleUploadedFile("张三身份证.png", PNG))
    # then the disk and any URL see a random name with the checked ending only
    stored = row.file.name.rsplit("/", 1)[-1]
    assert re.fullmatch(r"[0-9a-f]{32}\.png", stored), stored
    assert "张三" not in row.file.name
    assert row.original_name == "张三身份证.png"


@pytest.mark.parametrize(("name", "content", "code"), [
    ("virus.exe", b"MZ\x90\x00", "file_type"),
    ("empty.pdf", b"", "file_empty"),
    ("photo.png", b"%PDF-1.7 not a png", "file_content"),
])
def test_a_wrong_file_is_refused_with_its_reason(case, clerk, name, content, code):
    with pytest.raises(ValidationError) as refused:
        case_attach(case=case, actor=clerk, upload=SimpleUploadedFile(name, content))
    assert refused.value.code == code
    assert not Attachment.objects.filter(case=case).exists()


def test_an_oversized_file_is_refused(case, clerk):
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES)
    with pytest.raises(ValidationError) as refused:
        case_attach(case=case, actor=clerk, upload=big)
    assert refused.value.code == "file_size"


def test_a_user_who_may_not_note_the_case_may_not_attach(case, grid):
    with pytest.raises(PermissionDenied):
        case_attach(case=case, actor=grid, upload=SimpleUploadedFile("a.png", PNG))


def test_a_note_is_an_audit_row_and_cannot_be_empty(case, clerk, grid):
    note = case_note_add(case=case, actor=clerk, text="  电话联系信访人，约定周三面谈。 ")
    assert note.details == {"text": "电话联系信访人，约定周三面谈。"}
    with pytest.raises(ValidationError):
        case_note_add(case=case, actor=clerk, text="   ")
    with pytest.raises(PermissionDenied):
        case_note_add(case=case, actor=grid, text="不应写入")


def test_a_recused_clerk_adds_nothing_to_the_record(case, clerk):
    from cases.services.privacy import case_recuse

    case_recuse(case=case, actor=clerk, reason="信访人是我的亲属")
    with pytest.raises(PermissionDenied):
        case_note_add(case=case, actor=clerk, text="不应写入")
