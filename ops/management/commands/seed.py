import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.demo import demo_org_seed, demo_users_seed


class Command(BaseCommand):
    help = "Load the demo county and one login per role (idempotent). Refused in production."

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(_("Demo data is not allowed with these settings (production)."))
        password = os.environ.get("DEMO_PASSWORD", "demo")
        county = demo_org_seed()
        logins = demo_users_seed(password=password)
        self.stdout.write(_("Demo county: %(name)s") % {"name": county.name})
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": password})
        for login in logins:
            roles = ", ".join(str(role.label) for role, _code in login.roles)
            self.stdout.write(f"  {login.username:<11} {login.name:<6} {roles}")
