"""A demo county with one login per role. Idempotent: reruns add what is missing only."""

from dataclasses import dataclass

from django.db import connection, transaction

from .choices import Role, UnitKind
from .models import OrgUnit, User
from .services import org_unit_create, role_grant

COUNTY = ("341122", "清河县")
# Departments sit directly under the county; the petition bureau registers cases.
DEPARTMENTS = (
    ("341122-D00", "县信访局"),
    ("341122-D01", "县人力资源和社会保障局"),
    ("341122-D02", "县自然资源局"),
    ("341122-D03", "县住房和城乡建设局"),
    ("341122-D04", "县生态环境局"),
    ("341122-D05", "县市场监督管理局"),
)
# (code, name, kind, villages); each village gets two grids.
TOWNSHIPS = (
    ("341122100", "城关镇", UnitKind.TOWNSHIP, ("东关社区", "西关社区", "柳树村")),
    ("341122101", "河口镇", UnitKind.TOWNSHIP, ("河口村", "杨庄村", "新集村")),
    ("341122102", "东湖街道", UnitKind.STREET, ("东湖社区", "湖滨社区")),
    ("341122200", "桃源乡", UnitKind.TOWNSHIP, ("桃源村", "石桥村")),
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    name: str
    roles: tuple[tuple[Role, str], ...]  # (role, unit code)

    def describe(self) -> str:
        """E.g. "包案领导：城关镇、河口镇"."""
        names = OrgUnit.objects.in_bulk([code for _role, code in self.roles], field_name="code")
        by_role: dict[Role, list[str]] = {}
        for role, code in self.roles:
            by_role.setdefault(role, []).append(names[code].name)
        return "; ".join(f"{role.label}: {', '.join(units)}" for role, units in by_role.items())


LOGINS = (
    DemoLogin("clerk", "李接待", ((Role.CLERK, "341122-D00"),)),
    DemoLogin("handler", "王办理", ((Role.HANDLER, "341122100"),)),
    DemoLogin("head", "赵主任", ((Role.UNIT_HEAD, "341122100"),)),
    DemoLogin("leader", "陈副县长", ((Role.LEADER, "341122100"), (Role.LEADER, "341122101"))),
    DemoLogin("supervisor", "周督查", ((Role.SUPERVISOR, "341122"),)),
    DemoLogin("grid", "吴网格", ((Role.GRID_WORKER, "341122100001-G1"),)),
    DemoLogin("mediator", "郑调解", ((Role.MEDIATOR, "341122100"),)),
    # A member of the first village's people's mediation committee (issue 11).
    DemoLogin("village", "何调解", ((Role.MEDIATOR, "341122100001"),)),
    # The three administrators of the county (三员分立): system, security, audit.
    DemoLogin("admin", "孙管理", ((Role.ADMINISTRATOR, "341122"),)),
    DemoLogin("security", "钱安全", ((Role.SECURITY_ADMIN, "341122"),)),
    DemoLogin("audit", "冯审计", ((Role.AUDIT_ADMIN, "341122"),)),
)


@dataclass(frozen=True)
class _Planned:
    code: str
    name: str
    kind: str
    parent: str | None  # the parent's code


def _demo_tree() -> list[_Planned]:
    """The demo county's units, each after its parent."""
    county = COUNTY[0]
    units = [_Planned(county, COUNTY[1], UnitKind.COUNTY, None)]
    units += [_Planned(code, name, UnitKind.DEPARTMENT, county) for code, name in DEPARTMENTS]
    for code, name, kind, villages in TOWNSHIPS:
        units.append(_Planned(code, name, kind, county))
        for number, village_name in enumerate(villages, start=1):
            village_kind = UnitKind.COMMUNITY if village_name.endswith("社区") else UnitKind.VILLAGE
            village = f"{code}{number:03d}"
            units.append(_Planned(village, village_name, village_kind, code))
            units += [_Planned(f"{village}-G{grid}", f"{village_name}第{grid}网格", UnitKind.GRID,
                               village) for grid in (1, 2)]
    return units


@transaction.atomic
def demo_org_seed() -> OrgUnit:
    """Build the demo county's tree; return the county.

    Into a database with no unit yet (every test's, and a new office's), the tree goes in one
    INSERT; otherwise unit by unit through org_unit_create, adding what is missing. The
    first way took 0.16 s and 519 statements for the 41 units, in nearly every test."""
    planned = _demo_tree()
    if OrgUnit.objects.exists():
        made: dict[str, OrgUnit] = {}
        for unit in planned:
            made[unit.code] = _unit(unit.code, unit.name, unit.kind,
                                    made[unit.parent] if unit.parent else None)
    else:
        _tree_bulk_create(planned)
    return OrgUnit.objects.get(code=COUNTY[0])


def _tree_bulk_create(planned: list[_Planned]) -> None:
    """What treebeard's add_root/add_child would build, paths and child counts alike, in one
    INSERT. Siblings are numbered in the database's order of their codes, as node_order_by
    has treebeard place them (the collation decides where "341122-D00" sorts)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT code FROM unnest(%s::varchar[]) AS code ORDER BY code",
                       [[unit.code for unit in planned]])
        rank = {code: position for position, (code,) in enumerate(cursor.fetchall())}
    built: dict[str, OrgUnit] = {}
    children: dict[str | None, list[_Planned]] = {}
    for unit in planned:
        children.setdefault(unit.parent, []).append(unit)
    for unit in planned:  # parents come first
        parent = built.get(unit.parent) if unit.parent else None
        siblings = sorted(children[unit.parent], key=lambda sibling: rank[sibling.code])
        depth = parent.depth + 1 if parent else 1
        node = OrgUnit(name=unit.name, kind=unit.kind, code=unit.code, depth=depth,
                       numchild=len(children.get(unit.code, ())),
                       path=OrgUnit._get_path(parent.path if parent else None, depth,
                                              siblings.index(unit) + 1))
        node.clean_parent(parent)
        built[unit.code] = node
    OrgUnit.objects.bulk_create(built.values())


@transaction.atomic
def demo_users_seed(*, password: str) -> list[DemoLogin]:
    """Create one user per role; an existing user keeps its password."""
    for login in LOGINS:
        user, created = User.objects.get_or_create(username=login.username,
                                                   defaults={"name": login.name})
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        for role, code in login.roles:
            role_grant(user=user, role=role, unit=OrgUnit.objects.get(code=code))
    return list(LOGINS)


def _unit(code: str, name: str, kind: str, parent: OrgUnit | None) -> OrgUnit:
    existing = OrgUnit.objects.filter(code=code).first()
    if existing is not None:
        return existing
    if parent is not None:
        parent.refresh_from_db()  # treebeard needs the parent's current child count
    return org_unit_create(name=name, kind=kind, code=code, parent=parent)
