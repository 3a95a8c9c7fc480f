"""Create (or reuse) a user and make them administrator of a unit.

    make manage ARGS="create_administrator --username wang --unit 341122"

The password comes from ``--password``, else the ``ADMIN_PASSWORD`` environment
variable, else it is asked for twice. Django's password validators apply.
An existing user keeps their password; they only gain the role.
"""

import os
from getpass import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import OrgUnit, User
from accounts.services import role_grant


class Command(BaseCommand):
    help = "Create a user if missing and grant the administrator role in a unit."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--unit", required=True, help="Code of the unit, e.g. 341122.")
        parser.add_argument("--name", default="", help="Display name for a new user.")
        parser.add_argument("--password", default=None,
                            help="Password for a new user (else $ADMIN_PASSWORD, else a prompt).")

    def handle(self, *args, username: str, unit: str, name: str, password: str | None,
               **options) -> None:
        found = OrgUnit.objects.filter(code=unit).first()
        if found is None:
            raise CommandError(_("No unit has the code %(code)s.") % {"code": unit})
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            created = user is None
            if created:
                user = User(username=username, name=name)
                user.set_password(self._password(user, password))
                user.save()
            elif name and not user.name:
                user.name = name
                user.save(update_fields=["name"])
            role_grant(user=user, role=Role.ADMINISTRATOR, unit=found)
        message = (_("Created user %(user)s as administrator of %(unit)s.") if created
                   else _("User %(user)s is now administrator of %(unit)s."))
        self.stdout.write(self.style.SUCCESS(message % {"user": username, "unit": found.name}))

    def _password(self, user: User, given: str | None) -> str:
        password = given or os.environ.get("ADMIN_PASSWORD") or self._prompt()
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        return password

    def _prompt(self) -> str:
        first = getpass(_("Password: "))
        second = getpass(_("Password (again): "))
        if first != second:
            raise CommandError(_("The two passwords differ."))
        if not first:
            raise CommandError(_("The password may not be empty."))
        return first
