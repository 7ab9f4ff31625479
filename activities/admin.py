from django.contrib import admin

from activities.models import (
    Activity,
    ActivityAttachment,
    ActivitySeries,
    Attendance,
    ComplianceRule,
    LeaveRequest,
)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "branch", "starts_at", "mode", "status")
    list_filter = ("kind", "mode", "status")
    search_fields = ("title",)
    raw_id_fields = ("branch", "co_hosts", "organiser", "series")
    date_hierarchy = "starts_at"


@admin.register(ActivitySeries)
class ActivitySeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "branch", "rrule", "starts_on", "start_time")
    raw_id_fields = ("branch", "co_hosts", "organiser")


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ("activity", "member", "method", "checked_in_at", "duration_minutes")
    list_filter = ("method",)
    raw_id_fields = ("branch", "activity", "member", "recorded_by")


@admin.register(LeaveRequest)
class LeaveRequestAdmin(admin.ModelAdmin):
    list_display = ("activity", "member", "status", "requested_at")
    list_filter = ("status",)
    raw_id_fields = ("activity", "member", "decided_by")


@admin.register(ActivityAttachment)
class ActivityAttachmentAdmin(admin.ModelAdmin):
    list_display = ("name", "activity", "size", "content_type", "uploaded_at")
    raw_id_fields = ("activity", "uploaded_by")


@admin.register(ComplianceRule)
class ComplianceRuleAdmin(admin.ModelAdmin):
    """The 三会一课 requirements (seeded by migration 0003); edited here when the rules change."""

    list_display = ["kind", "period", "min_count", "branch_kinds", "active"]
    list_editable = ["min_count", "active"]
    list_filter = ["period", "active"]
