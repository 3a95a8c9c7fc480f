"""Time the case screens server-side, request to response, with Django's test Client.

Each figure is the median of ``runs`` requests after ``warmups`` unmeasured ones, over one
kept-open database connection (the test Client does not close it between requests).
What the bench writes is marked with ``MARK``: the notes that give one case its 50
events (made once, reused by later runs) and the summaries of the cases it registers.
Events are append-only, so nothing is deleted afterwards.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.permissions import Action, can
from cases.choices import CaseStatus, Channel, EventKind
from cases.demo.bulk import demo_categories_seed
from cases.idnumbers import check_digit
from cases.models import Case, CaseEvent
from cases.selectors.lists import case_list_page
from cases.selectors.timeline import ACCESS_KINDS
from cases.services.intake import intake_offices
from cases.services.records import case_note_add

MARK = "[bench]"
LIST_ROLES = ("handler", "leader", "supervisor")
FILTERS = {"status": CaseStatus.IN_HANDLING, "channel": Channel.VISIT}
CASE_EVENTS = 50
INTAKE_PLACE = "341122100001"  # 城关镇东关社区
HOST = "localhost"  # in ALLOWED_HOSTS of the local settings; "testserver" is not


class BenchFailure(Exception):
    """A screen answered with an unexpected status."""


@dataclass
class Timing:
    samples: list[float]
    status: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def _time(request: Callable[[], object], *, runs: int, warmups: int,
          expect: tuple[int, ...] = (200,)) -> Timing:
    samples, status = [], 0
    for index in range(warmups + runs):
        started = time.perf_counter()
        response = request()
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status_code
        if status not in expect:
            raise BenchFailure(f"HTTP {status}")
        if index >= warmups:
            samples.append(elapsed)
    return Timing(samples, status)


def signed_in(user: User) -> Client:
    client = Client(HTTP_HOST=HOST)
    client.force_login(user)
    return client


class Screens:
    """Measure and print; ``out`` is a callable taking one line (a command's stdout.write)."""

    def __init__(self, *, runs: int, warmups: int, out: Callable[[str], None],
                 err: Callable[[str], None]) -> None:
        self.runs, self.warmups, self.out, self.err = runs, warmups, out, err
        self.users = {user.username: user for user in User.objects.filter(
            username__in=(*LIST_ROLES, "clerk"))}

    def line(self, name: str, value: float | int | str, unit: str) -> None:
        shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        self.out(f"bench: {name} {shown} {unit}")

    def failed(self, name: str, error: Exception) -> None:
        self.out(f"bench: {name} failed {type(error).__name__}: {error}".rstrip())

    def run(self) -> None:
        # Measured as a deployment runs: DEBUG off (no query log kept per request). The
        # static files' URLs are the plain ones: `make bench` runs no collectstatic, so
        # there is no manifest to look hashed names up in.
        plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        with override_settings(DEBUG=False, STORAGES={**settings.STORAGES, "staticfiles": plain}):
            for name, step in (("case_list_ms", self.case_list),
                               ("case_list_filtered_ms", self.case_list_filtered),
                               ("case_list_queries", self.case_list_queries),
                               ("case_page_ms", self.case_page),
                               ("intake_ms", self.intake)):
                try:
                    step()
                except Exception as error:  # noqa: BLE001 - report the screen, go on
                    self.failed(name, error)

    # --- the case list ---------------------------------------------------------------

    def _list(self, name: str, params: dict) -> None:
        url = reverse("cases:list")
        medians = []
        for role in LIST_ROLES:
            client = signed_in(self.users[role])
            timing = _time(lambda c=client: c.get(url, params), runs=self.runs,
                           warmups=self.warmups)
            medians.append(timing.median)
            self.line(f"{name}_{role}", timing.median, "ms")
        self.line(name, statistics.median(medians), "ms")

    def case_list(self) -> None:
        self._list("case_list_ms", {})

    def case_list_filtered(self) -> None:
        self._list("case_list_filtered_ms", dict(FILTERS))

    def case_list_queries(self) -> None:
        """Queries of the first and the second page (the page size is fixed at 50)."""
        user = self.users["supervisor"]
        client = signed_in(user)
        url = reverse("cases:list")
        client.get(url)  # warm: the session and the user are read as on every page
        cursor = case_list_page(user=user, params={}).next_cursor
        counts = []
        for params in ({}, {"after": cursor} if cursor else None):
            if params is None:
                break
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, params)
            if response.status_code != 200:
                raise BenchFailure(f"HTTP {response.status_code}")
            counts.append(len(queries))
        self.line("case_list_queries", counts[0], "queries")
        if len(counts) == 2:
            same = "same as page 1" if counts[0] == counts[1] else f"page 1: {counts[0]}, NOT equal"
            self.line("case_list_queries_page2", counts[1], f"queries ({same})")
        else:
            self.err("case_list_queries: only one page of cases; no second page to compare")

    # --- one case page -----------------------------------------------------------------

    def case_page(self) -> None:
        case, viewer = case_with_events(self.users, err=self.err)
        events = CaseEvent.objects.filter(case=case).exclude(kind__in=ACCESS_KINDS).count()
        self.err(f"case page: {case.number}, {events} events, seen by {viewer.username}")
        client = signed_in(viewer)
        url = reverse("cases:detail", args=[case.number])
        timing = _time(lambda: client.get(url), runs=self.runs, warmups=self.warmups)
        self.line("case_page_ms", timing.median, "ms")
        self.line("case_page_events", events, "events")

    # --- intake ---------------------------------------------------------------------

    def intake(self) -> None:
        clerk = self.users["clerk"]
        offices = intake_offices(user=clerk)
        if not offices:
            raise BenchFailure("the demo clerk has no office to register in")
        category = next(iter(demo_categories_seed().values()))
        place = OrgUnit.objects.get(code=INTAKE_PLACE)
        client = signed_in(clerk)
        url = reverse("cases:intake")
        fresh = random.Random()  # noqa: S311 - made-up ID numbers, not secrets
        timing = _time(lambda: client.post(url, intake_payload(offices[0], category, place, fresh)),
                       runs=self.runs, warmups=self.warmups, expect=(302,))
        self.line("intake_ms", timing.median, "ms")


def intake_payload(office: OrgUnit, category_pk: int, place: OrgUnit,
                   fresh: random.Random) -> dict:
    """A valid one-person visit, a new token and a new resident ID each time."""
    received = timezone.localtime() - timedelta(hours=1)
    born = f"19{fresh.randint(50, 99)}{fresh.randint(1, 12):02d}{fresh.randint(1, 28):02d}"
    first17 = f"341122{born}{fresh.randint(0, 999):03d}"
    return {
        "token": str(uuid.uuid4()), "office": str(office.pk), "channel": Channel.VISIT,
        "received_at": received.strftime("%Y-%m-%dT%H:%M"), "purpose": "remedy",
        "category": str(category_pk), "place_unit": str(place.pk),
        "summary": f"{MARK} 征地补偿款未按期发放", "demands": "请求尽快发放补偿款",
        "urgency": "normal",
        "petitioners-TOTAL_FORMS": "1", "petitioners-INITIAL_FORMS": "0",
        "petitioners-MIN_NUM_FORMS": "1", "petitioners-MAX_NUM_FORMS": "100",
        "petitioners-0-name": "测试人", "petitioners-0-id_type": "resident_id",
        "petitioners-0-id_number": first17 + check_digit(first17),
        "petitioners-0-address": "城关镇东关社区",
    }


def case_with_events(users: dict[str, User], *, err: Callable[[str], None]) -> tuple[Case, User]:
    """A case with about CASE_EVENTS events and a demo user who may open it.

    A case the bench filled before that has not grown past 60, else (on a first run) a
    seeded one with 45 to 60 events, else the handler's newest case not filled yet,
    filled up with marked notes through ``case_note_add``.
    """
    viewers = [users[name] for name in ("handler", "supervisor", "leader", "clerk") if name in users]
    # Each view of a case page records who saw the petitioners (an append-only audit
    # event); the page lists those apart and only the latest (``access_log``), so the
    # events counted here are the timeline's: a filled case is reused while it has at
    # most CASE_EVENTS + 10 of them, then the next one is filled.
    filled = set(CaseEvent.objects.filter(kind=EventKind.NOTE, details__text__startswith=MARK)
                 .values_list("case_id", flat=True).distinct())
    steps = CaseEvent.objects.exclude(kind__in=ACCESS_KINDS)
    small = (steps.filter(case_id__in=filled).values("case_id")
             .annotate(n=Count("id")).filter(n__lte=CASE_EVENTS + 10)
             .order_by("case_id").values_list("case_id", flat=True).first())
    if small is None and not filled:
        small = (steps.values("case_id").annotate(n=Count("id"))
                 .filter(n__gte=CASE_EVENTS - 5, n__lte=CASE_EVENTS + 10)
                 .order_by("case_id").values_list("case_id", flat=True).first())
    if small is not None:
        case = Case.objects.get(pk=small)
        viewer = next((user for user in viewers if can(user, Action.CASE_VIEW, case)), None)
        if viewer is not None:
            return case, _filled(case, viewer, err)
    handler = users["handler"]
    fresh = Case.objects.visible_to(handler).exclude(pk__in=filled)
    for case in fresh.order_by("-received_at", "-pk")[:50]:
        if can(handler, Action.CASE_NOTE, case):
            return case, _filled(case, handler, err)
    raise BenchFailure("no case the demo handler may add notes to")


def _filled(case: Case, user: User, err: Callable[[str], None]) -> User:
    """Add marked notes until the case has CASE_EVENTS events; return ``user``."""
    missing = CASE_EVENTS - CaseEvent.objects.filter(case=case).exclude(
        kind__in=ACCESS_KINDS).count()
    if missing > 0:
        author = user if can(user, Action.CASE_NOTE, case) else None
        if author is None:
            author = next((u for u in User.objects.filter(username__in=("handler", "clerk"))
                           if can(u, Action.CASE_NOTE, case)), None)
        if author is None:
            raise BenchFailure(f"no demo user may add notes to {case.number}")
        for index in range(missing):
            case_note_add(case=case, actor=author, text=f"{MARK} note {index + 1} of {missing}")
        err(f"case page: added {missing} marked notes to {case.number}")
    return user
