#!/usr/bin/env python
"""Django's command-line utility. Use `make manage ARGS="..."` to run it against our servers."""

import os
import sys


def main() -> None:
    # Production by default: on a server a bare `manage.py` must never pick up DEBUG or the
    # demo data. scripts/stack.py (`make run`, `make manage`, `make test`) names its settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
