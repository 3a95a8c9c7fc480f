"""Demo data generators (cases/demo/fakes.py). No database needed."""

import re
import time
from collections import Counter
from datetime import date

import pytest

from cases.demo import FakeSource
from cases.idnumbers import birth_date, sex, validate_resident_id

CHINESE_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
MOBILE = re.compile(r"1(3[0-9]|5[0-35-9]|8[0-9])[0-9]{8}")


def people(seed: int, n: int) -> list[dict]:
    source = FakeSource(seed)
    return [source.person() for _ in range(n)]


def test_every_generated_id_number_validates():
    # given / when
    generated = people(seed=7, n=5000)
    # then
    for person in generated:
        number = person["id_number"]
        assert validate_resident_id(number) == number
        assert birth_date(number) == person["birth_date"]
        assert date(1940, 1, 1) <= person["birth_date"] <= date(2004, 12, 31)
        assert sex(number) == person["sex"]


def test_people_look_real():
    generated = people(seed=8, n=5000)
    for person in generated:
        assert CHINESE_NAME.fullmatch(person["name"]), person["name"]
        assert MOBILE.fullmatch(person["phone"]), person["phone"]
        assert person["sex"] in {"M", "F"}
    regions = {person["id_number"][:6] for person in generated}
    assert {"110101", "320102", "330106", "420102"} <= regions
    ethnicities = Counter(person["ethnicity"] for person in generated)
    assert ethnicities["汉族"] / len(generated) > 0.85
    surnames = Counter(person["name"][0] for person in generated)
    assert [s for s, _ in surnames.most_common(3)] in (["王", "李", "张"], ["李", "王", "张"])


def test_same_seed_gives_the_same_data():
    # given two sources with one seed, and one with another
    first, second, other = FakeSource(2024), FakeSource(2024), FakeSource(2025)

    # when each is asked the same things
    def draw(source: FakeSource) -> list:
        return [
            (source.person(), source.address("王家庄村"), source.summary("土地征收"))
            for _ in range(200)
        ]

    # then
    assert draw(first) == draw(second)
    assert draw(FakeSource(2024)) != draw(other)


def test_structure_lists_do_not_shift_the_stream_of_people():
    plain, busy = FakeSource(3), FakeSource(3)
    busy.township_names(10)
    busy.village_names(100)
    assert [plain.person() for _ in range(50)] == [busy.person() for _ in range(50)]


def test_address_is_in_the_village():
    source = FakeSource(1)
    for _ in range(200):
        assert re.fullmatch(r"王家庄村([1-9]|1[0-2])组([0-9]+号)?", source.address("王家庄村"))


def test_category_paths_form_a_three_level_tree():
    paths = FakeSource.category_paths()
    assert len(paths) >= 36
    assert all(len(path) == 3 for path in paths)
    leaves = [path[2] for path in paths]
    assert len(set(leaves)) == len(leaves)
    topics = {path[1] for path in paths}
    assert {"土地征收", "拆迁安置", "拖欠工资", "物业管理", "环境污染", "涉法涉诉", "村务公开",
            "医疗卫生", "教育", "住房保障", "交通出行", "婚姻家庭", "邻里纠纷"} <= topics
    assert ("城乡建设", "拆迁安置", "补偿标准") in paths


def test_summary_fills_every_slot_for_every_category():
    source = FakeSource(5)
    for path in source.category_paths():
        for category in (path, path[1], path[2], "_".join(path)):
            for _ in range(30):
                text, demand = source.summary(category)
                assert "{" not in text + demand
                assert 1 <= text.count("。") <= 3
                assert demand.startswith("要求") and demand.endswith("。")


def test_summaries_vary():
    source = FakeSource(6)
    texts = {source.summary("拖欠工资")[0] for _ in range(200)}
    assert len(texts) > 150


def test_unknown_category_is_refused():
    with pytest.raises(KeyError):
        FakeSource(1).summary("城乡建设")


def test_township_and_village_names_are_distinct_and_stable():
    source = FakeSource(9)
    townships = source.township_names(20)
    villages = source.village_names(500)
    assert len(set(townships)) == 20 and all(t[-1] in "镇乡" for t in townships)
    assert len(set(villages)) == 500 and all(v.endswith("村") for v in villages)
    assert source.township_names(5) == townships[:5]
    assert FakeSource(9).village_names(500) == villages
    with pytest.raises(ValueError):
        source.township_names(10_000)


def test_department_names_are_county_departments():
    names = FakeSource.department_names()
    assert "县人力资源和社会保障局" in names and "县自然资源局" in names
    assert all(name.startswith("县") for name in names)


def test_person_is_fast_enough_for_a_million_cases():
    # the seeder needs well over 50,000 people a second; allow for a slow CI box
    source = FakeSource(11)
    started = time.perf_counter()
    for _ in range(20_000):
        source.person()
    assert time.perf_counter() - started < 2.0
