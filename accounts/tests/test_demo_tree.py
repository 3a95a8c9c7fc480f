"""The demo county's tree, built in one INSERT into an empty database, is the tree that
treebeard builds unit by unit: the same paths, depths and child counts."""

import pytest

from accounts.choices import UnitKind
from accounts.demo import COUNTY, demo_org_seed
from accounts.models import OrgUnit
from accounts.services import org_unit_create

pytestmark = pytest.mark.django_db


def _shape() -> list[tuple[str, str, int, int]]:
    return list(OrgUnit.objects.order_by("path").values_list("code", "path", "depth", "numchild"))


def test_the_bulk_tree_is_the_tree_treebeard_builds():
    # given the tree seeded into an empty database (one INSERT)
    demo_org_seed()
    bulk = _shape()
    # when it is seeded again unit by unit, from the county alone
    OrgUnit.objects.all().delete()
    org_unit_create(name=COUNTY[1], kind=UnitKind.COUNTY, code=COUNTY[0], parent=None)
    demo_org_seed()
    # then both are the same tree, and treebeard finds nothing wrong with it
    assert len(bulk) == 41 and _shape() == bulk
    assert all(not problems for problems in OrgUnit.objects.find_problems())
    # and a unit added later sorts among the bulk-made ones as treebeard would place it
    OrgUnit.objects.all().delete()
    demo_org_seed()
    township = OrgUnit.objects.get(code="341122100")
    org_unit_create(name="新村", kind=UnitKind.VILLAGE, code="341122100002A",
                    parent=township)
    children = OrgUnit.objects.get_children(OrgUnit.objects.get(code="341122100"))
    assert [unit.code for unit in children][:3] == [
        "341122100001", "341122100002", "341122100002A"]
    assert all(not problems for problems in OrgUnit.objects.find_problems())
