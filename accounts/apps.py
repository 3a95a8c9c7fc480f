from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and organisation")

    def ready(self) -> None:
        from . import otp  # noqa: F401  (notes at sign-in whether the user has an authenticator)
