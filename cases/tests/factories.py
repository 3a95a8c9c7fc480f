"""factory_boy factories for the case core.

Units come from the demo county (``accounts.demo``), seeded on first use, so a
case built here sits in the same tree as the role fixtures of the root conftest.
``CaseFactory(status=...)`` sets the protected status field at construction.
"""

from datetime import datetime

import factory
from factory.django import DjangoModelFactory

from accounts.demo import demo_org_seed
from accounts.models import OrgUnit
from accounts.tests.factories import UserFactory
from cases.choices import Channel, Purpose
from cases.deadlines.clocks import OFFICE_TZ
from cases.deadlines.rules import STATUTORY_RULES
from cases.models import Case, Category

OFFICE_CODE = "341122-D00"  # the demo county's petition bureau
TOWNSHIP_CODE = "341122100"  # 城关镇


def demo_unit(code: str) -> OrgUnit:
    """Return a unit of the demo county, seeding the county when it is missing."""
    found = OrgUnit.objects.filter(code=code).first()
    if found is None:
        demo_org_seed()
        found = OrgUnit.objects.get(code=code)
    return found


class CategoryFactory(DjangoModelFactory):
    """A root category node (treebeard needs ``add_root``, not a plain insert)."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"类别{n}")
    code = factory.Sequence(lambda n: f"C{n:04d}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.add_root(instance=model_class(**kwargs))


class CaseFactory(DjangoModelFactory):
    class Meta:
        model = Case

    # A prefix registration never issues, so factory cases cannot collide with real numbers.
    number = factory.Sequence(lambda n: f"T-2026-{n + 1:06d}")
    query_code = factory.Sequence(lambda n: f"Q{n:07d}")
    channel = Channel.VISIT
    received_at = datetime(2026, 9, 16, 9, 30, tzinfo=OFFICE_TZ)
    registered_by = factory.SubFactory(UserFactory)
    registered_unit = factory.LazyFunction(lambda: demo_unit(OFFICE_CODE))
    purpose = Purpose.REMEDY
    category = factory.SubFactory(CategoryFactory)
    summary = "征地补偿款未按期发放"
    demands = "请求尽快发放补偿款"
    place_unit = factory.LazyFunction(lambda: demo_unit(TOWNSHIP_CODE))


# --- Added for the service tests (people, clocks, files) ---------------------------------

def valid_resident_id(n: int, region: str = "341122", born: str = "19800101") -> str:
    """Return the ``n``-th distinct resident ID number with a correct check digit (GB 11643)."""
    from cases.idnumbers import check_digit

    first17 = f"{region}{born}{n % 1000:03d}"
    if n >= 1000:  # more people than sequence codes: move the birth day on
        first17 = f"{region}1980{(n // 1000) % 12 + 1:02d}{(n // 12000) % 28 + 1:02d}{n % 1000:03d}"
    return first17 + check_digit(first17)


class PetitionerFactory(DjangoModelFactory):
    class Meta:
        model = "cases.Petitioner"

    name = factory.Sequence(lambda n: f"信访人{n}")
    id_type = "resident_id"
    id_number = factory.Sequence(valid_resident_id)
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class CasePetitionerFactory(DjangoModelFactory):
    class Meta:
        model = "cases.CasePetitioner"

    case = factory.SubFactory(CaseFactory)
    petitioner = factory.SubFactory(PetitionerFactory)
    is_main = True


class DeadlineFactory(DjangoModelFactory):
    """A running clock; pass ``due_at`` in the past to build one that has run out."""

    class Meta:
        model = "cases.Deadline"

    case = factory.SubFactory(CaseFactory)
    kind = "objection"
    status = "open"
    is_window = factory.LazyAttribute(
        lambda o: o.kind in {rule.kind for rule in STATUTORY_RULES if rule.is_window})
    starts_on = factory.LazyAttribute(lambda o: o.due_at.astimezone(OFFICE_TZ).date())
    length = 5
    unit = "working"
    due_on = factory.LazyAttribute(lambda o: o.due_at.astimezone(OFFICE_TZ).date())
    due_at = datetime(2026, 9, 24, 0, 0, tzinfo=OFFICE_TZ)


class AttachmentFactory(DjangoModelFactory):
    class Meta:
        model = "cases.Attachment"

    case = factory.SubFactory(CaseFactory)
    file = factory.django.FileField(filename="scan.pdf", data=b"%PDF-1.4 test")
    original_name = "scan.pdf"
    size = 13
    uploaded_by = factory.SubFactory(UserFactory)
    uploaded_at = datetime(2026, 9, 16, 10, 0, tzinfo=OFFICE_TZ)
