from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit

from ..choices import IdType, Sex
from ..fields import BlindIndexField, EncryptedTextField


class Petitioner(models.Model):
    """One person, whatever the channel; found again by ID number or phone."""

    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    id_type = models.CharField(_("ID type"), max_length=20, choices=IdType.choices,
                               default=IdType.RESIDENT_ID)
    # Sealed with SM4 in the database (issue 9); found by its blind index, never the column.
    id_number = EncryptedTextField(_("ID number"), max_length=32, blank=True)
    id_number_index = BlindIndexField(_("ID number index"), source="id_number")
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    phone_alt = models.CharField(_("other phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    address_unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("address unit"))
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    is_key_person = models.BooleanField(_("key person"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("petitioner")
        verbose_name_plural = _("petitioners")
        constraints = [
            # Also the index every lookup by ID number uses: the blind index leads.
            models.UniqueConstraint(fields=["id_number_index", "id_type"],
                                    condition=~Q(id_number_index=""),
                                    name="petitioner_one_row_per_id"),
        ]
        indexes = [models.Index(fields=["phone"], name="petitioner_phone")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, update_fields=None, **kwargs) -> None:
        # The blind index follows the number it indexes, in a partial save too.
        if update_fields is not None and "id_number" in update_fields:
            update_fields = {*update_fields, "id_number_index"}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def masked_id_number(self) -> str:
        if len(self.id_number) < 8:
            return "*" * len(self.id_number)
        return f"{self.id_number[:4]}{'*' * (len(self.id_number) - 8)}{self.id_number[-4:]}"
