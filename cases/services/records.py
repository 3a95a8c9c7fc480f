"""Notes and attachments on a case: each one an audit row (R22 Art.21: register every item)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.permissions import Action, can

from .. import events
from ..models import Attachment, Case, CaseEvent
from ..models.handling import ATTACHMENT_TYPES, MAX_ATTACHMENT_BYTES
from .privacy import attachments_for

# The first bytes of each accepted type: the name's ending alone proves nothing.
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tif": (b"II*\x00", b"MM\x00*"),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "docx": (b"PK\x03\x04",),
    "ofd": (b"PK\x03\x04",),
}


@transaction.atomic
def case_note_add(*, case: Case, actor: User, text: str, at: datetime | None = None) -> CaseEvent:
    """Add a note to the case's record; notes, like every event, are never edited."""
    if not can(actor, Action.CASE_NOTE, case):
        raise PermissionDenied(_("You may not add notes to case %(number)s.")
                               % {"number": case.number})
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("A note cannot be empty."), code="required")
    (event,) = events.record(events.note(case=case, actor=actor, at=at or timezone.now(),
                                         text=text))
    return event


@transaction.atomic
def case_attach(*, case: Case, actor: User, upload: UploadedFile,
                is_accusation_material: bool = False, at: datetime | None = None) -> Attachment:
    """Attach a scan, photo or document after checking its type, content and size."""
    if not can(actor, Action.CASE_ATTACH, case):
        raise PermissionDenied(_("You may not add files to case %(number)s.")
                               % {"number": case.number})
    attachment_check(upload=upload)
    at = at or timezone.now()
    attachment = Attachment.objects.create(
        case=case, file=upload, original_name=upload.name[:200], size=upload.size,
        is_accusation_material=is_accusation_material, uploaded_by=actor, uploaded_at=at,
    )
    events.record(events.attachment_added(case=case, actor=actor, at=at, row=attachment))
    return attachment


@transaction.atomic
def attachment_open(*, case: Case, actor: User, pk: int, at: datetime | None = None) -> Attachment:
    """Hand a file of the case to a user who may open it, and log who opened it; accusation
    material never reaches the accused (R22 Art.30): for them it does not exist."""
    attachment = attachments_for(user=actor, case=case).filter(pk=pk).first()
    if attachment is None:
        raise Attachment.DoesNotExist
    events.record(events.attachment_viewed(case=case, actor=actor, at=at or timezone.now(),
                                           row=attachment))
    return attachment


def attachment_check(*, upload: UploadedFile) -> None:
    """Refuse an empty, oversized or mistyped file with a message that says which."""
    ending = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if ending not in ATTACHMENT_TYPES:
        raise ValidationError(
            _("Files of type “%(ending)s” are not accepted. Accepted: %(accepted)s.")
            % {"ending": ending or "?", "accepted": ", ".join(ATTACHMENT_TYPES)},
            code="file_type")
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="file_empty")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            _("The file is %(size)d MB; at most %(limit)d MB is accepted.")
            % {"size": upload.size // 2**20 + 1, "limit": MAX_ATTACHMENT_BYTES // 2**20},
            code="file_size")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(_SIGNATURES[ending]):
        raise ValidationError(
            _("The file's content is not a %(ending)s file; it may be damaged or misnamed.")
            % {"ending": ending}, code="file_content")
