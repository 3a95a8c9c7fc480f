"""Seeded generators of realistic Chinese demo data for the bulk seeder.

The seeder writes a million cases in minutes, so nothing here calls Faker per
row: every pool ships in `cases.demo.texts` and is turned into lookup tables
once, at import. ID numbers are built from precomputed partial weighted sums
(GB 11643-1999), so a person costs a handful of `random` calls.

Everything draws from one `random.Random(seed)`: the same seed and the same
sequence of calls give the same data. The structure lists (townships,
villages) use their own seeded generators, so asking for them does not shift
the stream of people and summaries.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from cases.demo.texts import (
    DEPARTMENTS,
    ETHNICITY_WEIGHTS,
    GIVEN_CHARS,
    MOBILE_PREFIXES,
    OPENERS,
    REGION_CODES,
    SURNAME_WEIGHTS,
    TAILS,
    TOPICS,
    TOWNSHIP_STEMS,
    VILLAGE_NAMES,
    Topic,
)
from cases.idnumbers import CHECK_CHARS, WEIGHTS

# --- People ---------------------------------------------------------------

_ONE_CHARACTER_SHARE = 0.2
_MALE_SHARE = 0.6  # petitioners skew male in county registers
_BIRTH_RANGE = (date(1940, 1, 1), date(2004, 12, 31))


def _expand(weighted: tuple[tuple[str, int], ...]) -> tuple[str, ...]:
    """Repeat each value by its weight so a uniform pick follows the weights."""
    return tuple(value for value, weight in weighted for _ in range(weight))


def _weighted_sum(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(char) * weight for char, weight in zip(digits, weights, strict=True))


def _birth_table() -> tuple[tuple[str, int, date], ...]:
    """(YYYYMMDD, its share of the GB 11643-1999 weighted sum, date) for each day."""
    first, last = _BIRTH_RANGE
    rows = []
    for offset in range((last - first).days + 1):
        born = first + timedelta(days=offset)
        digits = f"{born.year:04d}{born.month:02d}{born.day:02d}"
        rows.append((digits, _weighted_sum(digits, WEIGHTS[6:14]), born))
    return tuple(rows)


def _sequence_table(parity: int) -> tuple[tuple[str, int], ...]:
    """Sequence codes 001-999 whose last digit is odd for men, even for women."""
    codes = (f"{n:03d}" for n in range(1, 1000) if n % 2 == parity)
    return tuple((code, _weighted_sum(code, WEIGHTS[14:17])) for code in codes)


_SURNAMES = _expand(SURNAME_WEIGHTS)
_ETHNICITIES = _expand(ETHNICITY_WEIGHTS)
_REGIONS = tuple((code, _weighted_sum(code, WEIGHTS[:6])) for code in REGION_CODES)
_BIRTHS = _birth_table()
_SEQUENCES = {"M": _sequence_table(1), "F": _sequence_table(0)}

# --- Case texts -------------------------------------------------------------

_DETAIL_SHARE = 0.7
_TAIL_SHARE = 0.35

# Values for the {slots} in the fragments; each takes the generator.
_SLOTS = {
    "year": lambda r: r.randint(2016, 2024),
    "month": lambda r: r.randint(1, 12),
    "area": lambda r: f"{r.randint(5, 600) / 10:.1f}",
    "amount": lambda r: r.randint(20, 8000) * 100,
    "wage": lambda r: r.randint(30, 1200) * 100,
    "small": lambda r: r.randint(5, 90) * 10,
    "price": lambda r: f"{r.randint(2, 15) / 10:.1f}",
    "n": lambda r: r.randint(3, 60),
    "households": lambda r: r.randint(20, 600),
    "family": lambda r: r.randint(3, 8),
    "children": lambda r: r.randint(2, 5),
    "months": lambda r: r.randint(2, 24),
    "years": lambda r: r.randint(2, 15),
    "times": lambda r: r.randint(2, 6),
    "km": lambda r: r.randint(5, 40),
    "plot": lambda r: r.randint(3, 40),
}


class _Slots(dict):
    """Fill a fragment's {slots} lazily: only the ones it names are drawn."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> Any:
        value = self[key] = _SLOTS[key](self.rng)
        return value


def _topic_index() -> dict[str, Topic]:
    """Look topics up by their own name or by any of their leaves."""
    index = {leaf: topic for topic in TOPICS for leaf in topic.leaves}
    index.update((topic.name, topic) for topic in TOPICS)
    return index


_TOPIC_BY_NAME = _topic_index()


def _find_topic(category: str | tuple[str, ...]) -> Topic:
    """Accept a topic or leaf name, a path tuple, or the national `A_B_C` path."""
    parts = category.split("_") if isinstance(category, str) else category
    for part in reversed(parts):
        if part in _TOPIC_BY_NAME:
            return _TOPIC_BY_NAME[part]
    raise KeyError(f"Unknown category {category!r}; use one of category_paths().")


# --- The source -------------------------------------------------------------


class FakeSource:
    """Deterministic generator of demo petitioners, places and case texts."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def person(self) -> dict[str, Any]:
        """Return a petitioner with a valid GB 11643-1999 ID number."""
        rng = self._rng
        sex = "M" if rng.random() < _MALE_SHARE else "F"
        born_digits, born_sum, born = rng.choice(_BIRTHS)
        region, region_sum = rng.choice(_REGIONS)
        sequence, sequence_sum = rng.choice(_SEQUENCES[sex])
        check = CHECK_CHARS[(region_sum + born_sum + sequence_sum) % 11]
        return {
            "name": self._name(sex, born.year < 1975),
            "sex": sex,
            "id_number": f"{region}{born_digits}{sequence}{check}",
            "birth_date": born,
            "phone": f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}",
            "ethnicity": rng.choice(_ETHNICITIES),
        }

    def _name(self, sex: str, older: bool) -> str:
        rng = self._rng
        firsts, seconds = GIVEN_CHARS[sex, older]
        surname = rng.choice(_SURNAMES)
        if rng.random() < _ONE_CHARACTER_SHARE:
            return surname + rng.choice(seconds)
        return surname + rng.choice(firsts) + rng.choice(seconds)

    def address(self, village_name: str) -> str:
        """Return a rural address in the village: group (组) and house number."""
        rng = self._rng
        group = rng.randint(1, 12)
        if rng.random() < 0.15:
            return f"{village_name}{group}组"
        return f"{village_name}{group}组{rng.randint(1, 120)}号"

    def summary(self, category: str | tuple[str, ...]) -> tuple[str, str]:
        """Return (概况 of 1-3 sentences, 诉求) for a topic, leaf or category path."""
        rng = self._rng
        topic = _find_topic(category)
        slots = _Slots(rng)
        situation, demands = rng.choice(topic.situations)
        parts = [rng.choice(OPENERS), situation]
        if rng.random() < _DETAIL_SHARE:
            parts.append(rng.choice(topic.details))
        if rng.random() < _TAIL_SHARE:
            parts.append(rng.choice(TAILS))
        return "".join(parts).format_map(slots), rng.choice(demands).format_map(slots)

    @staticmethod
    def category_paths() -> list[tuple[str, ...]]:
        """Return the category tree as (domain, topic, leaf) paths."""
        return [(t.domain, t.name, leaf) for t in TOPICS for leaf in t.leaves]

    def township_names(self, n: int) -> list[str]:
        """Return n distinct township names; a smaller n gives a prefix of a larger one."""
        stems = self._shuffled(TOWNSHIP_STEMS, "townships", n)
        rng = random.Random(f"{self.seed}:township-suffixes")
        return [stem + ("镇" if rng.random() < 0.65 else "乡") for stem in stems]

    def village_names(self, n: int) -> list[str]:
        """Return n distinct village names; a smaller n gives a prefix of a larger one."""
        return self._shuffled(VILLAGE_NAMES, "villages", n)

    @staticmethod
    def department_names() -> list[str]:
        """Return the county departments that cases are routed to."""
        return list(DEPARTMENTS)

    def _shuffled(self, pool: tuple[str, ...], purpose: str, n: int) -> list[str]:
        if not 0 <= n <= len(pool):
            raise ValueError(f"Can make 0 to {len(pool)} {purpose}, not {n}.")
        names = list(pool)
        random.Random(f"{self.seed}:{purpose}").shuffle(names)
        return names[:n]
