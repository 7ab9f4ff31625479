"""Admin: the reference tables admins edit (case types, deadline policies, holidays); records read-only-ish."""

from django.contrib import admin

from services.models import CaseType, HolidayOverride, SlaPolicy


class SlaPolicyInline(admin.TabularInline):
    model = SlaPolicy
    extra = 0


@admin.register(CaseType)
class CaseTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "position", "is_active", "route_to")
    list_editable = ("position", "is_active")
    inlines = [SlaPolicyInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("case_type", "priority", "first_response_hours", "resolution_hours")
    list_filter = ("priority",)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name")
    date_hierarchy = "date"
