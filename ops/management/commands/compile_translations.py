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
                compiled = polib.pofile(str(po_path)).to_binary()
                mo_path = po_path.with_suffix(".mo")
                if not mo_path.exists() or mo_path.read_bytes() != compiled:
                    mo_path.write_bytes(compiled)
