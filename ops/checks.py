"""Deployment checks of operations: run by ``manage.py check --deploy``.

The audit trail is kept from the application's own role by privileges (config/dbroles.py):
that needs two database roles. A deployment that connects as the tables' owner has
no such protection left, only the triggers and the HMAC chain, so the check warns.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks

W001 = checks.Warning(
    "DATABASE_OWNER_URL is not set: the application connects as the role that owns the "
    "tables, which may change and delete the audit rows.",
    hint="Create a runtime role and connect with it (DATABASE_URL); give the owning role "
         "to `migrate` alone (DATABASE_OWNER_URL). See the README, production.",
    id="ops.W001",
)
W002 = checks.Warning(
    "No key for the audit trail's HMAC chain (PETITIONDESK_AUDIT_KEYS): events cannot be "
    "written.",
    hint="Add PETITIONDESK_AUDIT_KEYS (a1:<64 hex digits>) to the environment or the key "
         "file; see config/crypto.py.",
    id="ops.W002",
)


@checks.register(checks.Tags.security, deploy=True)
def check_database_roles(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    found = []
    if not getattr(settings, "DATABASE_OWNER", None):
        found.append(W001)
    if not getattr(settings, "AUDIT_MAC_KEYS", None):
        found.append(W002)
    return found
