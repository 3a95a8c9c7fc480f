"""Production settings pass Django's deploy checks; the zh-hans catalogue is complete."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_production_settings_pass_check_deploy():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deployment check.
    env = {
        # Nor the keys the embedded stack hands the tests: these settings get their own.
        **{k: v for k, v in os.environ.items()
           if k != "DJANGO_ALLOW_ASYNC_UNSAFE" and not k.startswith("PETITIONDESK_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-value-0123456789",
        "DJANGO_ALLOWED_HOSTS": "xf.example.gov.cn",
        # Production refuses to start without the keys of the data encrypted at rest.
        "PETITIONDESK_FIELD_KEYS": "p1:" + "ab" * 16,
        "PETITIONDESK_BLIND_INDEX_KEY": "cd" * 32,
        "PETITIONDESK_AUDIT_KEYS": "a1:" + "ef" * 32,
        # Two database roles: the runtime role serves, the owner migrates.
        "DATABASE_URL": "postgres://petitiondesk_app:x@db.example.gov.cn/petitiondesk",
        "DATABASE_OWNER_URL": "postgres://petitiondesk_owner:y@db.example.gov.cn/petitiondesk",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_production_settings_refuse_demo_users():
    from django.core.management.base import CommandError

    with override_settings(DEMO_DATA_ALLOWED=False), pytest.raises(CommandError):
        call_command("seed")


def test_every_message_has_a_chinese_translation():
    entries = polib.pofile(str(CATALOGUE))
    missing = [e.msgid for e in entries if not e.translated() and not e.obsolete]
    assert missing == []


def test_the_catalogue_holds_every_marked_string(tmp_path):
    """Extract the marked strings afresh, in a copy of the tree, and find each translated.

    makemessages writes into the project's own locale folder, so it runs on a copy.
    """
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is needed for this check: apt-get install gettext")
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".venv", ".data", ".git", "vendor", "test-artifacts", "__pycache__", "*.mo"))
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete",
         "-v", "0"], cwd=copy, check=True, env={**os.environ},
    )
    fresh = polib.pofile(str(copy / CATALOGUE.relative_to(ROOT)))
    untranslated = [e.msgid for e in fresh if not e.translated() and not e.obsolete]
    assert untranslated == []


def test_the_compiled_catalogue_exists_and_is_fresh():
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.read_bytes() == polib.pofile(str(CATALOGUE)).to_binary()
