from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up and self-service")

    def ready(self) -> None:
        from notifications.messages import message_register

        message_register("followup.decision_due", title=_(
            "Case %(case_number)s: a follow-up found the petitioner dissatisfied or a "
            "commitment not kept; decide by %(due_on)s"))
