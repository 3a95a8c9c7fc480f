"""What demo cases hang on, loaded once per run: the county's places, logins, categories."""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import accumulate

from accounts.choices import Role, UnitKind
from accounts.demo import demo_org_seed, demo_users_seed
from accounts.models import OrgUnit, RoleAssignment, User
from cases.deadlines.calendar import DayOverride, WorkCalendar
from cases.demo.fakes import FakeSource
from cases.models import AnnouncedYear, CalendarDay, Category, DeadlineRule

OFFICE_CODE = "341122-D00"  # the county petition bureau registers every demo case
# Demo logins the rows name; none is created here beyond what demo_users_seed makes.
_LOGINS = ("clerk", "handler", "head", "leader", "supervisor")
_TOPIC_WEIGHTS = {"土地征收": 14, "拆迁安置": 10, "住房保障": 6, "物业管理": 8, "拖欠工资": 12,
                  "社会保险": 8, "环境污染": 7, "涉法涉诉": 8, "村务公开": 9, "医疗卫生": 5,
                  "教育": 4, "交通出行": 4, "婚姻家庭": 3, "邻里纠纷": 6}
# The county department in charge of a domain (谁主管、谁负责); others go to the township.
_DOMAIN_DEPARTMENTS = {"劳动和社会保障": "县人力资源和社会保障局", "自然资源": "县自然资源局",
                       "城乡建设": "县住房和城乡建设局", "生态环境": "县生态环境局"}


@dataclass
class Place:
    unit_ids: tuple[int, ...]  # the village, then its grids
    address_prefix: str  # township and village: 城关镇柳树村
    village_id: int
    township_id: int
    leader_id: int | None = None  # the demo leader, if the place is under their townships


@dataclass
class World:
    county_id: int
    county_code: str
    office_id: int
    clerk_id: int
    supervisor_id: int  # records reviews
    rereviewer_id: int  # records re-reviews: another reviewer if the office has one
    handler_id: int | None
    handler_unit_id: int | None
    responsible_ids: tuple[int, ...]  # who may carry out a leader's measures: head, handler
    places: list[Place]
    leaves: list[tuple[int, tuple[str, str, str]]]  # (category id, domain-topic-leaf path)
    leaf_weights: list[float]
    departments: dict[str, int]  # domain: department id
    department_ids: list[int]
    unit_codes: dict[int, str]
    unit_names: dict[int, str]
    rules: dict[str, tuple[int, str, bool]]  # clock kind: (length, unit, is a window)
    calendar: WorkCalendar


def world_load() -> World:
    """Seed what the cases hang on (county, logins, categories) if missing, and read it."""
    county = demo_org_seed()
    if not User.objects.filter(username="clerk").exists():
        demo_users_seed(password=os.environ.get("DEMO_PASSWORD", "demo"))
    users = dict(User.objects.filter(username__in=_LOGINS).values_list("username", "pk"))
    handler_unit = (RoleAssignment.objects.filter(user_id=users.get("handler"), role=Role.HANDLER)
                    .values_list("unit_id", flat=True).first())
    units = list(OrgUnit.objects.filter(path__startswith=county.path, is_active=True))
    led = tuple(RoleAssignment.objects.filter(user_id=users.get("leader"), role=Role.LEADER,
                                              unit__is_active=True)
                .values_list("unit__path", flat=True))
    departments = {u.name: u.pk for u in units
                   if u.kind == UnitKind.DEPARTMENT and u.code != OFFICE_CODE}
    leaves = [(pk, path) for path, pk in demo_categories_seed().items()]
    office = next(u for u in units if u.code == OFFICE_CODE)
    overrides = {row.day: DayOverride(row.is_workday, row.name) for row in CalendarDay.objects.all()}
    return World(
        county_id=county.pk, county_code=county.code,
        office_id=office.pk, clerk_id=users["clerk"], supervisor_id=users["supervisor"],
        rereviewer_id=_other_reviewer(office, units, users["supervisor"]),
        handler_id=users.get("handler"), handler_unit_id=handler_unit,
        responsible_ids=tuple(users[name] for name in ("head", "handler") if name in users),
        places=_places(units, users.get("leader"), led),
        leaves=leaves,
        leaf_weights=list(accumulate(_TOPIC_WEIGHTS.get(path[1], 3) for _pk, path in leaves)),
        departments={domain: departments[name] for domain, name in _DOMAIN_DEPARTMENTS.items()
                     if name in departments},
        department_ids=sorted(departments.values()),
        unit_codes={u.pk: u.code for u in units},
        unit_names={u.pk: u.name for u in units},
        rules={r.kind: (r.length, r.unit, r.is_window) for r in DeadlineRule.objects.all()},
        calendar=WorkCalendar(overrides, AnnouncedYear.objects.values_list("year", flat=True)),
    )


def _other_reviewer(office: OrgUnit, units: list[OrgUnit], reviewer: int) -> int:
    """Someone else who records review decisions for the office (CASE_REVIEW): the person
    who recorded the review may not record its re-review. The demo logins have one
    supervisor only, who then records both."""
    over_office = [u.pk for u in units if office.path.startswith(u.path)]
    other = (RoleAssignment.objects
             .filter(role__in=(Role.UNIT_HEAD, Role.SUPERVISOR), unit_id__in=over_office)
             .exclude(user_id=reviewer).order_by("user_id").values_list("user_id", flat=True)
             .first())
    return reviewer if other is None else other


def _places(units: list[OrgUnit], leader_id: int | None, led: tuple[str, ...]) -> list[Place]:
    """Each village or community of the county with its grids, township and leader if any."""
    by_path = {u.path: u for u in units}
    step = OrgUnit.steplen
    places = []
    for village in sorted((u for u in units if u.kind in (UnitKind.VILLAGE, UnitKind.COMMUNITY)),
                          key=lambda u: u.path):
        township = by_path[village.path[:-step]]
        grids = sorted((u for u in units if u.kind == UnitKind.GRID
                        and u.path[:-step] == village.path), key=lambda u: u.path)
        leader = leader_id if village.path.startswith(led) else None
        places.append(Place((village.pk, *(g.pk for g in grids)),
                            township.name + village.name, village.pk, township.pk, leader))
    if not places:
        raise RuntimeError("The demo county has no villages to place cases in.")
    return places


def demo_categories_seed() -> dict[tuple[str, str, str], int]:
    """Build the demo category tree if missing (idempotent); return each leaf path's id."""
    codes: dict[tuple[str, ...], str] = {}
    leaves = {}
    for path in FakeSource.category_paths():
        parent = None
        for depth in range(1, 4):
            key = path[:depth]
            if key not in codes:  # 01, 0102, 010203: numbered in order of appearance
                siblings = sum(len(known) == depth and known[:-1] == key[:-1] for known in codes)
                codes[key] = codes.get(key[:-1], "") + f"{siblings + 1:02d}"
            parent = _category(codes[key], key[-1], parent)
        leaves[path] = parent.pk
    return leaves


def _category(code: str, name: str, parent: Category | None) -> Category:
    found = Category.objects.filter(code=code).first()
    if found is not None:
        return found
    if parent is None:
        return Category.objects.add_root({"code": code, "name": name})
    parent.refresh_from_db()  # treebeard needs the parent's current child count
    return Category.objects.add_child(parent, {"code": code, "name": name})
