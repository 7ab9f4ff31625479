"""Admin: platforms are edited here; member records are read-only (writes go through the actions,
which validate the ID number, keep branch counts and audit). Only masks are shown."""

from django.contrib import admin

from members.models import (
    Affiliation,
    AppraisalRound,
    BranchStat,
    DevelopmentInterval,
    DuesBracket,
    Member,
    Notice,
    Platform,
    Vote,
    VoteOption,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that only shows: these records change through the app's actions (audited), never here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
class MemberAdmin(ReadOnlyAdmin):
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


#
# Member appraisal: read-only (writes go through members/actions/appraisal.py). Peer ratings are not
# registered at all: the admin would show who rated whom.
#
@admin.register(AppraisalRound)
class AppraisalRoundAdmin(ReadOnlyAdmin):
    list_display = ("branch", "year", "status", "self_assessment_due", "rating_due", "excellent_cap_percent")
    list_filter = ("status", "year")
    list_select_related = ("branch",)
    readonly_fields = [f.name for f in AppraisalRound._meta.fields]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Read-only: notices are written, published and withdrawn through the pages (members/actions/notices.py)."""

    list_display = ("title", "branch", "category", "audience", "status", "publish_from", "publish_until")
    list_filter = ("status", "category", "audience")
    search_fields = ("title",)
    list_select_related = ("branch",)
    fields = (
        "title",
        "branch",
        "category",
        "audience",
        "status",
        "publish_from",
        "publish_until",
        "published_at",
        "withdrawn_at",
        "announced_at",
    )
    readonly_fields = fields


@admin.register(BranchStat)
class BranchStatAdmin(ReadOnlyAdmin):
    """The dashboard's stored figures, read-only (recomputed by `manage.py refresh_stats` and the beat task)."""

    list_display = ("branch", "dimension", "key", "value", "refreshed_at")
    list_filter = ("dimension",)
    search_fields = ("branch__name",)
    list_select_related = ("branch",)


class VoteOptionInline(admin.TabularInline):
    model = VoteOption
    extra = 0
    fields = ("position", "label", "code", "tally", "elected")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    """Branch votes, read-only (writes go through members/actions/votes.py). Only the recorded totals are
    shown: ballots, participation and the roll have no admin, so no page ever lists a ballot row."""

    list_display = ("title", "branch", "kind", "secret", "status", "outcome", "closes_at")
    list_filter = ("kind", "status", "outcome", "secret")
    search_fields = ("title", "branch__name")
    list_select_related = ("branch",)
    fields = (
        "branch",
        "kind",
        "title",
        "description",
        "secret",
        "seats",
        "opens_at",
        "closes_at",
        "status",
        "quorum_rule",
        "majority_rule",
        "opened_at",
        "eligible_count",
        "ballots_cast",
        "outcome",
        "closed_at",
        "closed_by",
    )
    readonly_fields = fields
    inlines = [VoteOptionInline]
