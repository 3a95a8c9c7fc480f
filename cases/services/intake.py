"""Registering from the intake form: once per form, whatever the clerk or the network does.

The form carries a one-time token (a UUID drawn when the page is shown). The first
submit registers the case and stores the token on it in the same transaction; a
second submit of the same form (a double click, a reload after a slow answer) finds
that case and registers nothing. The unique index on ``Case.intake_token`` is the
last word: two submits racing past the check make the second one's insert fail, its
whole transaction (case number included) rolls back, and it returns the first case.

Files dropped on the form are kept under the same token on every submit
(``intake_uploads_stage``), so a form sent back for an error elsewhere loses none, and
registering moves them onto the case in the registration's transaction. Staging and
registering take the same advisory lock on the token, so a double click can neither
stage a file twice nor add it to the case twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import sha256
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit, User
from accounts.permissions import Action, can
from config.crypto import blind_index

from .. import events
from ..idnumbers import validate_resident_id
from ..models import Attachment, Case, IntakeUpload, Petitioner
from .privacy import mask_name
from .records import attachment_check
from .registration import CaseIntake, case_register


@dataclass(frozen=True)
class IntakeResult:
    case: Case
    created: bool  # False: this form had registered the case already


def case_register_once(*, actor: User, office: OrgUnit, intake: CaseIntake,
                       token: UUID) -> IntakeResult:
    """Register ``intake`` unless the form with ``token`` registered a case already (issue 7)."""
    try:
        with transaction.atomic():
            _lock_token(token)  # a racing second submit waits here, then finds the case
            earlier = _registered_with(actor=actor, token=token)
            if earlier is not None:
                return IntakeResult(case=earlier, created=False)
            case = case_register(actor=actor, office=office, intake=intake)
            case.intake_token = token
            case.save(update_fields=["intake_token"])
            _uploads_attach(case=case, actor=actor, token=token)
            return IntakeResult(case=case, created=True)
    except IntegrityError:
        earlier = _registered_with(actor=actor, token=token)
        if earlier is None:
            raise
        return IntakeResult(case=earlier, created=False)


def intake_offices(*, user: User) -> list[OrgUnit]:
    """The units where ``user`` may register petitions (the permission module decides)."""
    units = (OrgUnit.objects.filter(role_assignments__user=user, is_active=True)
             .distinct().order_by("path"))
    return [unit for unit in units if can(user, Action.CASE_REGISTER, unit)]


def _lock_token(token: UUID) -> None:
    """Serialise submits of one form: a transaction-level advisory lock keyed on the token."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [str(token)])


def _registered_with(*, actor: User, token: UUID) -> Case | None:
    """The case this form registered; a token another user's form used is refused."""
    case = Case.objects.filter(intake_token=token).first()
    if case is not None and case.registered_by_id != actor.pk:
        raise ValidationError(_("This form was already used by someone else; open a new "
                                "registration form."), code="token_used")
    return case


# --- Files dropped on the form --------------------------------------------------------------

# How long a file dropped on a form that was never registered is kept.
UPLOAD_KEEP_HOURS = 24


@dataclass(frozen=True)
class NewFile:
    """A file sent with one submit of the intake form, and whether it is accusation material."""

    upload: UploadedFile
    is_accusation_material: bool = False


@dataclass(frozen=True)
class StagedUploads:
    kept: list[IntakeUpload]  # every file the form holds now, in the order dropped
    refused: list[str] = field(default_factory=list)  # one message per file not kept


@transaction.atomic
def intake_uploads_stage(*, actor: User, token: UUID, files: list[NewFile],
                         marks: Mapping[int, bool] | None = None,
                         remove: Collection[int] = ()) -> StagedUploads:
    """Keep the files of one submit that pass the type and size check under the form's token
    (issue 7: nothing dropped is lost to an error elsewhere on the form).

    ``marks`` sets the accusation-material flag of files kept before (by id) and ``remove``
    drops some of them. A file kept already (same name, size and content: a double click,
    or the same scan dropped again) is not kept twice; a form that registered its case
    keeps nothing more. Only the user who uploaded under a token may use it.
    """
    _lock_token(token)
    if Case.objects.filter(intake_token=token).exists():
        return StagedUploads(kept=[])
    kept = []
    for row in _uploads_of(actor=actor, token=token):
        if row.pk in remove:
            _upload_discard(row)
            continue
        if marks and row.pk in marks and row.is_accusation_material != marks[row.pk]:
            row.is_accusation_material = marks[row.pk]
            row.save(update_fields=["is_accusation_material"])
        kept.append(row)
    refused = []
    at = timezone.now()
    for new in files:
        try:
            attachment_check(upload=new.upload)
        except ValidationError as error:
            refused.append(str(_("“%(name)s” was not kept: %(reason)s")
                               % {"name": new.upload.name, "reason": error.messages[0]}))
            continue
        if any(_same_file(row, new.upload) for row in kept):
            continue
        kept.append(IntakeUpload.objects.create(
            token=token, file=new.upload, original_name=new.upload.name[:200],
            size=new.upload.size, is_accusation_material=new.is_accusation_material,
            uploaded_by=actor, uploaded_at=at))
    return StagedUploads(kept=kept, refused=refused)


def intake_uploads_delete_stale(*, now: datetime | None = None) -> int:
    """Delete files dropped on forms never registered, a day after (their rows, then the files
    once that is committed); return how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=UPLOAD_KEEP_HOURS)
    # By form: a form still in use (a file dropped on it within the day) keeps all its files.
    fresh = IntakeUpload.objects.filter(uploaded_at__gte=cutoff).values("token")
    with transaction.atomic():
        stale = list(IntakeUpload.objects.select_for_update(skip_locked=True)
                     .filter(uploaded_at__lt=cutoff).exclude(token__in=fresh))
        names = [row.file.name for row in stale]
        IntakeUpload.objects.filter(pk__in=[row.pk for row in stale]).delete()
        # A stored file the case kept (never, unless moved by hand) stays.
        in_use = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
        storage = IntakeUpload._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names
                                       if name not in in_use])
    return len(stale)


def _uploads_of(*, actor: User, token: UUID) -> list[IntakeUpload]:
    """The files kept under ``token``; someone else's token is refused."""
    rows = list(IntakeUpload.objects.select_for_update().filter(token=token).order_by("pk"))
    if any(row.uploaded_by_id != actor.pk for row in rows):
        raise PermissionDenied(_("These files were dropped on someone else's form; open a new "
                                 "registration form."))
    return rows


def _uploads_attach(*, case: Case, actor: User, token: UUID) -> list[Attachment]:
    """Move the form's kept files onto its new case: the same stored file, one audit row each."""
    at = timezone.now()
    attached = []
    for row in _uploads_of(actor=actor, token=token):
        attachment = Attachment.objects.create(
            case=case, file=row.file.name, original_name=row.original_name, size=row.size,
            is_accusation_material=row.is_accusation_material, uploaded_by=row.uploaded_by,
            uploaded_at=row.uploaded_at)
        events.record(events.attachment_added(case=case, actor=actor, at=at, row=attachment))
        attached.append(attachment)
        row.delete()  # the row only; the file is the attachment's now
    return attached


def _upload_discard(row: IntakeUpload) -> None:
    """Drop one kept file; its stored file goes once the removal is committed."""
    name, storage = row.file.name, row.file.storage
    row.delete()
    transaction.on_commit(lambda: storage.delete(name))


def _same_file(row: IntakeUpload, upload: UploadedFile) -> bool:
    """Whether ``upload`` is the file kept as ``row`` (name, size, then every byte)."""
    if row.original_name != upload.name[:200] or row.size != upload.size:
        return False
    with row.file.open("rb") as kept:
        return _digest(kept) == _digest(upload)


def _digest(file) -> bytes:
    file.seek(0)
    digest = sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.digest()


@dataclass(frozen=True)
class KnownPetitioner:
    """A person already on file, as the intake lookup shows them to a clerk."""

    name: str  # masked unless the clerk may see one of the person's cases
    cases: int  # how many cases the person is on
    visible: list[Case]  # the earlier cases this clerk may open


LOOKUP_LIMIT = 5
MIN_PHONE_DIGITS = 7


def petitioners_known(*, user: User, id_number: str = "", phone: str = "") -> list[KnownPetitioner]:
    """Find people on file by a whole, valid ID number or a phone (exact); registration reuses
    them (``petitioner_find_or_create``), so the clerk sees who will be linked. ID numbers
    are stored encrypted: the lookup goes through their blind index (issue 9)."""
    match = Q(pk__in=[])
    if id_number:
        with contextlib.suppress(ValidationError):  # only a whole, valid number is looked up
            match |= Q(id_number_index=blind_index(validate_resident_id(id_number)))
    phone = phone.strip()
    if len(phone) >= MIN_PHONE_DIGITS and phone.isdigit():
        match |= Q(phone=phone)
    people = (Petitioner.objects.filter(match).annotate(case_count=Count("parties"))
              .order_by("-case_count", "pk")[:LOOKUP_LIMIT])
    found = []
    for person in people:
        visible = list(Case.objects.visible_to(user).filter(parties__petitioner=person)
                       .order_by("-received_at")[:3])
        found.append(KnownPetitioner(name=person.name if visible else mask_name(person.name),
                                     cases=person.case_count, visible=visible))
    return found
