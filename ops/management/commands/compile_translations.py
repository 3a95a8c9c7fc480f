"""Compile every .po catalogue under LOCALE_PATHS to .mo, without GNU gettext.

Django's own `compilemessages` needs `msgfmt`, which a fresh machine with only
Python lacks; polib writes the same .mo files.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po → .mo) with polib."

    def handle(self, *args, **options) -> None:
        for folder in settings.LOCALE_PATHS:
            for po_path in Path(folder).glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                self.stderr.write(f"compiled {po_path.relative_to(settings.BASE_DIR)}")
