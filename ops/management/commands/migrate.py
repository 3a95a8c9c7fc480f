"""``migrate`` as the owning role, then the runtime role's grants (config/dbroles.py).

Django's own command, run on a connection that is switched to ``DATABASE_OWNER_URL``'s
user for its duration when that is set: the one command that creates and alters tables.
Every other command, and the web and the workers, keep ``DATABASE_URL``'s runtime role.
"""

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from config.dbroles import grant_runtime, runtime_role_exists

OWNER_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


class Command(migrate.Command):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        owner = getattr(settings, "DATABASE_OWNER", None)
        role = getattr(settings, "DATABASE_RUNTIME_ROLE", "")
        saved = {key: connection.settings_dict.get(key) for key in OWNER_KEYS}
        if owner:
            connection.close()
            connection.settings_dict.update(
                {key: owner[key] for key in OWNER_KEYS if owner.get(key) not in (None, "")})
            # The owner's URL options (sslmode, a socket folder) over the runtime role's.
            connection.settings_dict["OPTIONS"] = {**(saved["OPTIONS"] or {}),
                                                   **(owner.get("OPTIONS") or {})}
            # The test runner names its own database: the owner works on that one.
            connection.settings_dict["NAME"] = saved["NAME"]
        try:
            super().handle(*args, **options)
            if role and role != connection.settings_dict.get("USER"):
                if not runtime_role_exists(connection, role):
                    raise CommandError(f"The runtime database role {role!r} "
                                       "(DATABASE_RUNTIME_ROLE, or DATABASE_URL's user) does "
                                       "not exist: create it (see the README, production).")
                grant_runtime(connection, role)
        finally:
            if owner:
                connection.close()
                connection.settings_dict.update(saved)
