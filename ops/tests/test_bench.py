"""`make bench` on a tiny database: every figure is printed, each on its own line."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import Case, CaseEvent
from ops.bench.screens import MARK

pytestmark = pytest.mark.django_db

NUMBER = r"\d+(\.\d+)?"
EXPECTED = {
    "seed_cases_per_s": rf"{NUMBER} cases/s",
    "seed_events_per_s": rf"{NUMBER} events/s",
    "cases": r"30 cases",
    **{f"case_list_ms_{role}": rf"{NUMBER} ms" for role in ("handler", "leader", "supervisor")},
    "case_list_ms": rf"{NUMBER} ms",
    **{f"case_list_filtered_ms_{role}": rf"{NUMBER} ms"
       for role in ("handler", "leader", "supervisor")},
    "case_list_filtered_ms": rf"{NUMBER} ms",
    "case_list_queries": r"\d+ queries",
    "case_page_ms": rf"{NUMBER} ms",
    "case_page_events": r"5\d events",
    "intake_ms": rf"{NUMBER} ms",
}


def test_bench_tops_up_and_prints_every_figure():
    out, err = StringIO(), StringIO()
    call_command("bench", cases=30, runs=2, warmups=1, stdout=out, stderr=err)
    lines = out.getvalue().splitlines()
    assert all(line.startswith("bench: ") for line in lines), lines
    figures = dict(line.removeprefix("bench: ").split(" ", 1) for line in lines)
    for name, pattern in EXPECTED.items():
        assert name in figures, (name, lines, err.getvalue())
        assert re.fullmatch(pattern, figures[name]), (name, figures[name])
    assert Case.objects.count() == 30 + 3  # the seeded ones and the bench's visits
    assert Case.objects.filter(summary__startswith=MARK).count() == 3
    assert CaseEvent.objects.filter(details__text__startswith=MARK).exists()

    # A second run adds no demo cases, reuses the 50-event case and prints no seed rates.
    again = StringIO()
    call_command("bench", cases=30, runs=1, warmups=0, stdout=again, stderr=StringIO())
    assert "seed_cases_per_s" not in again.getvalue()
    assert "bench: cases 33 cases" in again.getvalue()
    assert "failed" not in again.getvalue()
