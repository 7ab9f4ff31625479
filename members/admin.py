"""Admin: platforms are edited here; member records are read-only (writes go through the actions,
which validate the ID number, keep branch counts and audit). Only masks are shown."""

from django.contrib import admin

from members.models import Affiliation, DevelopmentInterval, DuesBracket, Member, Platform


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "position")
    search_fields = ("code", "name")
    ordering = ("position", "code")


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    extra = 0
    fields = ("branch", "kind", "started_on", "ended_on", "note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "citizen_id_masked", "phone_masked", "branch", "category", "status", "occupation")
    list_filter = ("category", "status", "occupation")
    search_fields = ("name", "name_pinyin", "name_initials")
    list_select_related = ("branch",)
    fields = (
        "name",
        "citizen_id_masked",
        "phone_masked",
        "sex",
        "birth_date",
        "ethnicity",
        "education",
        "branch",
        "category",
        "joined_on",
        "full_member_on",
        "job_title",
        "address",
        "status",
        "lost_contact",
        "lost_contact_since",
        "is_mobile",
        "mobile_destination",
        "occupation",
        "platforms",
        "unit",
        "shows_identity",
        "under_probation_discipline",
        "user",
        "version",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [AffiliationInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


#
# Development and dues tables (issue 4): the rules' lengths and brackets, editable here
#
@admin.register(DevelopmentInterval)
class DevelopmentIntervalAdmin(admin.ModelAdmin):
    list_display = ("code", "months", "days")
    list_editable = ("months", "days")


@admin.register(DuesBracket)
class DuesBracketAdmin(admin.ModelAdmin):
    list_display = ("base_kind", "lower", "upper", "rate", "amount")
    list_filter = ("base_kind",)
