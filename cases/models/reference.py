from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class Category(MP_Node):
    """Content category (内容分类), a tree an administrator edits; exported as A_B_C."""

    name = models.CharField(_("name"), max_length=60)
    code = models.CharField(_("code"), max_length=30, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    node_order_by = ["code"]

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name
