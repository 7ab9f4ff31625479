from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from core.models import AuditEntry, ChangeRecord, NotificationPreference, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Display"), {"fields": ("display_name",)}))


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_repr", "ip")
    list_filter = ("action",)
    search_fields = ("object_id", "action", "request_id")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    list_display = ("seq", "resource", "object_id", "op", "version", "at")
    list_filter = ("resource", "op")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Read-mostly: people set their own preferences on /notifications/preferences/."""

    list_display = ("user", "kind", "in_app", "email", "sms", "updated_at")
    list_filter = ("kind",)
    search_fields = ("user__username", "kind")
    raw_id_fields = ("user",)
