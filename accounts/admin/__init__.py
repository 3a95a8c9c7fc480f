"""Admin of the three administrators (三员分立); the rights come from ``config/admin_site.py``.

* users.py — the system administrator: units, users and role grants, in their subtree;
* security.py — the security administrator: passwords, lockouts and sessions;
* audit.py — the audit administrator: the admin's log and the login log, read and exported.
"""

from . import audit, security, users  # noqa: F401  (registration happens on import)
