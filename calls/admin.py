"""The audit log in Django's admin: read-only, and for superusers only."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from calls.models import AuditEvent

# ModelAdmin is generic in the stubs only: Django's class takes no type argument at run time.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AuditEvent]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(_ModelAdmin):
    list_display = ["at", "username", "action", "call_id", "status", "ip"]
    list_filter = ["action", "at", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["username", "call_id", "detail"]
    date_hierarchy = "at"
    list_per_page = 100
    show_full_result_count = False  # no COUNT(*) over a table that only grows

    # Staff may use the dashboard; only superusers read who did what in it.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return request.user.is_active and request.user.is_superuser

    # Append-only: nobody adds, changes or deletes a row here, superusers included.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
