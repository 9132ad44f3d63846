"""The audit log in Django's admin: read-only, and for superusers only. Review work (verdicts,
outcome corrections, samples, notes) is readable there too, and changed only through the
dashboard: its histories are append-only."""

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from calls.models import AuditEvent, OutcomeCorrection, Review, ReviewSample, TurnNote

# ModelAdmin is generic in the stubs only: Django's class takes no type argument at run time.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AuditEvent]
    _AnyModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = _AnyModelAdmin = admin.ModelAdmin


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


class ReadOnlyAdmin(_AnyModelAdmin):
    """Shown to those with the model's view permission (superusers, or as granted); nobody adds,
    changes or deletes a row here: the dashboard writes them, each with its audit row."""

    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["at", "call_id", "verdict", "reviewer", "assigned_to"]
    list_filter = ["verdict", "at"]
    search_fields = ["call_id", "reviewer__username", "note"]
    date_hierarchy = "at"


@admin.register(OutcomeCorrection)
class OutcomeCorrectionAdmin(ReadOnlyAdmin):
    list_display = ["at", "call_id", "ai_outcome", "outcome", "corrected_by"]
    list_filter = ["outcome", "at"]
    search_fields = ["call_id", "corrected_by__username", "reason"]
    date_hierarchy = "at"


@admin.register(ReviewSample)
class ReviewSampleAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "pk", "percent", "size", "query", "created_by"]
    date_hierarchy = "created_at"


@admin.register(TurnNote)
class TurnNoteAdmin(ReadOnlyAdmin):
    list_display = ["at", "call_id", "turn", "author", "resolved_at"]
    list_filter = ["at", "resolved_at"]
    search_fields = ["call_id", "author__username", "text"]
    date_hierarchy = "at"
