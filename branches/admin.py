from django.contrib import admin

from branches.models import Branch, CommitteeSeat, RoleAssignment, Unit


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "basis", "parent", "term_expires_on")
    search_fields = ("name",)
    list_filter = ("kind", "basis", "is_joint", "is_temporary")
    readonly_fields = ("parent", "path", "depth")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "unit_type", "branch")
    search_fields = ("name", "credit_code")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "branch")
    list_filter = ("role",)
    raw_id_fields = ("user", "branch")


@admin.register(CommitteeSeat)
class CommitteeSeatAdmin(admin.ModelAdmin):
    list_display = ("branch", "post", "holder_name", "started_on", "ended_on")
    raw_id_fields = ("branch", "user")
