"""Repeat detection while registering (issue 7): earlier cases the new petition may repeat.

Two kinds of candidate, each one query whatever the number of people typed:

* the same person: a case with a petitioner whose ID number, phone or name plus
  address matches one typed on the form (exact, after normalising); ID numbers are
  stored encrypted and compared through their blind index (issue 9), which only
  ever answers "the same number", never "a number starting with";
* similar text in the same place: a case whose summary is similar (pg_trgm
  ``similarity`` above :data:`SIMILARITY_THRESHOLD`) and whose place is the same
  unit or under the same township. Trigrams of Chinese text exist only in a
  database whose ``LC_CTYPE`` is UTF-8 (``cases.checks`` refuses a plain ``C`` one).

Both start from ``Case.objects.visible_to(user)``: a clerk is never offered a case
they may not open. When the pg_trgm functions are missing (the extension is not
created), the similar-text part is skipped rather than failing the intake form.

Beside them, the same person's other matters (``related_matters``): the apps above cases
(mediation: grid reports, mediation cases) register a provider that lists them for the
people found, scoped to what the user may see (issue 11, "one person across it all").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import OrgUnit, User
from config.crypto import blind_index

from ..choices import CaseStatus
from ..idnumbers import normalize_resident_id
from ..models import Case, CasePetitioner, Petitioner

SIMILARITY_THRESHOLD = 0.3
MIN_SUMMARY_CHARS = 4  # fewer characters give too few trigrams to mean anything
MIN_PHONE_DIGITS = 7
MIN_ID_CHARS = 6
TOWNSHIP_DEPTH = 2  # county → township (or street, department) → village or community


class RepeatReason(StrEnum):
    PERSON = "person"
    TEXT = "text"


@dataclass(frozen=True)
class RepeatCandidate:
    """An earlier case the new petition may repeat, and why it is offered."""

    case: Case  # lead_unit is loaded
    reason: RepeatReason
    similarity: float | None = None  # for RepeatReason.TEXT

    @property
    def is_final(self) -> bool:
        """A repeat of a final case is refused unless the clerk records what is new (Art. 36)."""
        return self.case.status == CaseStatus.FINAL


def repeat_candidates(*, user: User, id_numbers: Iterable[str] = (), phones: Iterable[str] = (),
                      name_address_pairs: Iterable[tuple[str, str]] = (), summary: str = "",
                      place_unit: OrgUnit | None = None, limit: int = 10) -> list[RepeatCandidate]:
    """Offer the earlier cases of the same person, then those with similar text in the same
    place, that ``user`` may see (issue 7); at most ``limit``, in a constant number of queries."""
    found = [RepeatCandidate(case=case, reason=RepeatReason.PERSON)
             for case in _same_person(user=user, id_numbers=id_numbers, phones=phones,
                                      pairs=name_address_pairs, limit=limit)]
    seen = {candidate.case.pk for candidate in found}
    room = limit - len(found)
    if room > 0 and place_unit is not None and len(summary.strip()) >= MIN_SUMMARY_CHARS:
        for case in _similar_text(user=user, summary=summary.strip(), place_unit=place_unit,
                                  exclude=seen, limit=room):
            found.append(RepeatCandidate(case=case, reason=RepeatReason.TEXT,
                                         similarity=case.similarity))
    return found


@dataclass(frozen=True)
class RelatedMatter:
    """Another matter of the same person: a grid report, a mediation case."""

    kind: str  # what it is, in words
    number: str
    status: str  # in words
    day: date
    url: str


# Each: (user, people: a queryset of Petitioner ids, limit) -> its matters the user may see.
RelatedProvider = Callable[..., list[RelatedMatter]]
_RELATED_PROVIDERS: list[RelatedProvider] = []


def related_matters_register(provider: RelatedProvider) -> None:
    """Add a provider of a person's other matters (an app's ``AppConfig.ready``)."""
    if provider not in _RELATED_PROVIDERS:
        _RELATED_PROVIDERS.append(provider)


def related_matters(*, user: User, id_numbers: Iterable[str] = (), phones: Iterable[str] = (),
                    name_address_pairs: Iterable[tuple[str, str]] = (),
                    limit: int = 10) -> list[RelatedMatter]:
    """The other matters (grid reports, mediations) of the people typed, that ``user`` may
    see, newest first; one query per provider."""
    match = _person_match(id_numbers=id_numbers, phones=phones, pairs=name_address_pairs)
    if match is None:
        return []
    people: QuerySet = Petitioner.objects.filter(match).values("pk")
    found = [matter for provider in _RELATED_PROVIDERS
             for matter in provider(user=user, people=people, limit=limit)]
    return sorted(found, key=lambda matter: matter.day, reverse=True)[:limit]


def first_petition_proposed(candidates: Iterable[RepeatCandidate], *,
                            id_numbers: Iterable[str] = (), phones: Iterable[str] = (),
                            name_address_pairs: Iterable[tuple[str, str]] = ()) -> bool | None:
    """Propose "first petition" (初信初访) when the person typed has no earlier case among the
    candidates (cases/DECISIONS.md row F); None when no one was typed to look for."""
    if _person_match(id_numbers=id_numbers, phones=phones, pairs=name_address_pairs) is None:
        return None
    return not any(candidate.reason == RepeatReason.PERSON for candidate in candidates)


def trigram_available() -> bool:
    """Whether pg_trgm's ``similarity(text, text)`` exists in this database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('similarity(text, text)') IS NOT NULL")
        return bool(cursor.fetchone()[0])


def _person_match(*, id_numbers: Iterable[str], phones: Iterable[str],
                  pairs: Iterable[tuple[str, str]]) -> Q | None:
    match = Q(pk__in=[])
    numbers = set()
    for raw in id_numbers:
        number = normalize_resident_id(raw or "")
        if len(number) >= MIN_ID_CHARS:
            numbers.add(number)
    if numbers:
        match |= Q(id_number_index__in=sorted(blind_index(number) for number in numbers))
    digits = sorted({p.strip() for p in phones if p and p.strip().isdigit()
                     and len(p.strip()) >= MIN_PHONE_DIGITS})
    if digits:
        match |= Q(phone__in=digits) | Q(phone_alt__in=digits)
    for name, address in pairs:
        name, address = (name or "").strip(), " ".join((address or "").split())
        if name and address:
            match |= Q(name=name, address=address)
    return None if match == Q(pk__in=[]) else match


def _same_person(*, user: User, id_numbers, phones, pairs, limit: int) -> list[Case]:
    match = _person_match(id_numbers=id_numbers, phones=phones, pairs=pairs)
    if match is None:
        return []
    people = Petitioner.objects.filter(match).values("pk")
    cases = CasePetitioner.objects.filter(petitioner__in=people).values("case_id")
    return list(Case.objects.visible_to(user).filter(pk__in=cases).select_related("lead_unit")
                .order_by("-received_at", "-pk")[:limit])


def _same_place(place_unit: OrgUnit) -> Q:
    """The place itself, or anywhere under its township (a county matches itself only)."""
    if place_unit.depth < TOWNSHIP_DEPTH:
        return Q(place_unit=place_unit)
    township_path = place_unit.path[:TOWNSHIP_DEPTH * place_unit.steplen]
    return Q(place_unit__in=OrgUnit.objects.filter(path__startswith=township_path).values("pk"))


def _similar_text(*, user: User, summary: str, place_unit: OrgUnit, exclude: set[int],
                  limit: int) -> list[Case]:
    if not trigram_available():
        return []
    return list(Case.objects.visible_to(user).filter(_same_place(place_unit))
                .exclude(pk__in=sorted(exclude))
                # ``%`` (pg_trgm's default threshold, 0.3) lets the trigram index answer;
                # the score then orders and applies our own threshold.
                .filter(summary__trigram_similar=summary)
                .annotate(similarity=TrigramSimilarity("summary", summary))
                .filter(similarity__gt=SIMILARITY_THRESHOLD)
                .select_related("lead_unit").order_by("-similarity", "-received_at")[:limit])
