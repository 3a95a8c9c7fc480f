from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("Mediation")

    def ready(self) -> None:
        from cases.selectors.repeats import related_matters_register
        from notifications.messages import message_register

        from .people import related_to_people

        # Intake's repeat check shows a person's reports and mediations (people.py).
        related_matters_register(related_to_people)
        message_register("mediation.report_new", title=_(
            "Grid report %(case_number)s: a dispute was passed to the township centre"))
        message_register("mediation.triaged", title=_(
            "Grid report %(case_number)s was sent to you by the township centre"))
        message_register("mediation.opened", title=_(
            "Mediation %(case_number)s was opened with you as mediator"))
