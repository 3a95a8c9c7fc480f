from django.contrib.admin.apps import AdminConfig


class PetitionDeskAdminConfig(AdminConfig):
    default_site = "config.admin_site.PetitionDeskAdminSite"
