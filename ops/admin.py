from django.contrib import admin

from config.admin_site import AdministratorOnly

from .models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(AdministratorOnly, admin.ModelAdmin):
    list_display = ("name", "last_beat_at", "worker", "beats")
    readonly_fields = ("name", "last_beat_at", "worker", "beats")

    def has_add_permission(self, request, *args) -> bool:
        return False
