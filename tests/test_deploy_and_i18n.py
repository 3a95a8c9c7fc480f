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
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + "-a-long-random-production-secret-value-0123456789",
        "DJANGO_ALLOWED_HOSTS": "xf.example.gov.cn",
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
    """Extract the marked strings afresh and find each in the committed catalogue."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is needed for this check: apt-get install gettext")
    with override_settings(LOCALE_PATHS=[tmp_path]):
        call_command("makemessages", locale=["zh_Hans"], verbosity=0,
                     ignore_patterns=[".venv/*", ".data/*", "static/vendor/*", "test-artifacts/*"])
    fresh = {e.msgid for e in polib.pofile(str(tmp_path / "zh_Hans/LC_MESSAGES/django.po"))}
    committed = {e.msgid for e in polib.pofile(str(CATALOGUE)) if not e.obsolete}
    assert sorted(fresh - committed) == []


def test_the_compiled_catalogue_exists_and_is_fresh():
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.exists()
    assert compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime
