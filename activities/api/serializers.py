"""Serializers of the activities API: output representations and the input shape of each write.

Input serializers check shape only and resolve ids within the caller's scope; the rules (times, mode
and place, series, check-in refusals) live in activities/actions.py and activities/models.py.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from activities.choices import CHECK_IN_METHODS, ActivityKind, ActivityMode, SeriesScope
from activities.models import Activity, Attendance
from activities.selectors import activity_named_invitee_ids, activity_quorum
from branches.api.serializers import ScopedBranchField
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from members.models import Member
from members.selectors import member_list


#
# Output
#
class QuorumSerializer(serializers.Serializer):
    basis = serializers.ChoiceField(
        choices=[("voting_members", "voting_members"), ("committee", "committee")],
        read_only=True,
        help_text=_("Who counts: the branch's voting members (assembly) or its committee (committee meeting)."),
    )
    entitled = serializers.IntegerField(read_only=True, help_text=_("How many count on the activity's date."))
    required = serializers.IntegerField(read_only=True, help_text=_("How many of them must be present."))
    present = serializers.IntegerField(read_only=True, help_text=_("How many of them attended (make-up excluded)."))
    met = serializers.BooleanField(read_only=True)


class ScheduleWarningSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text=_("peak_hours, public_holiday or invitees_busy."))
    message = serializers.CharField(read_only=True)
    details = serializers.DictField(read_only=True, help_text=_("Figures behind the warning (windows, date, names)."))


@extend_schema_serializer(component_name="Activity")
class ActivityOutputSerializer(SyncedOutputSerializer):
    """An activity (one occurrence) as the API shows it; `branch` is the host branch.

    Expects objects from `selectors.activity_list` (co-hosts prefetched, quorum figures annotated).
    """

    co_hosts = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text=_("Ids of the co-hosting organisations.")
    )
    invitees = serializers.SerializerMethodField(
        help_text=_(
            "Ids of the members invited by name (read-only here; add them with `invitees` on create or "
            "update). Members of the host and co-hosting organisations and their affiliates are invited "
            "without being listed."
        )
    )
    organiser_name = serializers.SerializerMethodField(help_text=_("Name of the organiser."))
    series = serializers.UUIDField(
        source="series_id", read_only=True, allow_null=True, help_text=_("Id of the series it belongs to.")
    )
    credited_hours = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False, read_only=True)
    reminder_offsets = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text=_("Minutes before the start for reminders.")
    )
    quorum = serializers.SerializerMethodField(
        help_text=_("Branch assemblies and committee meetings: whether enough were present; null otherwise.")
    )

    class Meta(SyncedOutputSerializer.Meta):
        model = Activity
        fields = (
            *ENVELOPE_FIELDS,
            "title",
            "kind",
            "agenda",
            "co_hosts",
            "invitees",
            "mode",
            "venue",
            "online_link",
            "starts_at",
            "ends_at",
            "capacity",
            "organiser_name",
            "status",
            "cancel_reason",
            "minutes",
            "credited_hours",
            "reminder_offsets",
            "series",
            "quorum",
        )
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_invitees(self, obj: Activity) -> list[str]:
        return [str(pk) for pk in activity_named_invitee_ids(activity=obj)]

    def get_organiser_name(self, obj: Activity) -> str:
        return str(obj.organiser) if obj.organiser_id else ""

    @extend_schema_field(QuorumSerializer(allow_null=True))
    def get_quorum(self, obj: Activity):
        quorum = activity_quorum(activity=obj)
        return quorum.as_dict() if quorum else None


@extend_schema_serializer(component_name="ActivityWithWarnings")
class ActivityWriteOutputSerializer(ActivityOutputSerializer):
    """The activity after a create or update, with the scheduling warnings (they never block)."""

    warnings = serializers.SerializerMethodField(
        help_text=_("Scheduling warnings: peak hours, holidays, busy invitees.")
    )

    class Meta(ActivityOutputSerializer.Meta):
        fields = (*ActivityOutputSerializer.Meta.fields, "warnings")
        read_only_fields = fields

    @extend_schema_field(ScheduleWarningSerializer(many=True))
    def get_warnings(self, obj: Activity) -> list[dict]:
        return [w.as_dict() for w in self.context.get("warnings", [])]


@extend_schema_serializer(component_name="Attendance")
class AttendanceOutputSerializer(SyncedOutputSerializer):
    """Who attended which activity, how, and for how long; `branch` is the activity's host branch."""

    activity = serializers.UUIDField(source="activity_id", read_only=True)
    member = serializers.UUIDField(source="member_id", read_only=True)
    member_name = serializers.CharField(source="member.name", read_only=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = Attendance
        fields = (
            *ENVELOPE_FIELDS,
            "activity",
            "member",
            "member_name",
            "method",
            "checked_in_at",
            "duration_minutes",
            "nonce",
            "note",
        )
        read_only_fields = fields


#
# Input
#
def _blank_to_none(value):
    return value or None


@extend_schema_serializer(component_name="ActivityInput")
class ActivityInputSerializer(serializers.Serializer):
    """Fields a client may set on an activity (create, PUT, PATCH). Absent optional fields keep their values."""

    branch = ScopedBranchField(
        perm="activities.change", keep_current="branch_id", help_text=_("Id of the host organisation.")
    )
    co_hosts = ScopedBranchField(
        perm="activities.view", many=True, required=False, help_text=_("Ids of co-hosting organisations.")
    )
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    agenda = serializers.CharField(required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=ActivityMode.choices, required=False)
    venue = serializers.CharField(max_length=300, required=False, allow_blank=True)
    online_link = serializers.URLField(max_length=500, required=False, allow_blank=True)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    capacity = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    credited_hours = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, required=False)
    reminder_offsets = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=43200), required=False, max_length=10
    )
    minutes = serializers.CharField(required=False, allow_blank=True)
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    invitees = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=500,
        help_text=_(
            "Ids of members to invite by name, beyond the host organisations' members and affiliates "
            "(added to the existing ones; members outside your scope are refused)."
        ),
    )
    scope = serializers.ChoiceField(
        choices=SeriesScope.choices,
        required=False,
        help_text=_("For an occurrence of a series: change this one (default), this and the following, or all."),
    )

    def validate_external_ref(self, value):
        return _blank_to_none(value)

    def validate_invitees(self, value):
        found = {m.pk: m for m in member_list(actor=self.context["request"].user).filter(pk__in=value)}
        missing = [str(pk) for pk in value if pk not in found]
        if missing:
            raise serializers.ValidationError(
                _("No member with id %(ids)s exists in your scope.") % {"ids": ", ".join(missing)}
            )
        return [found[pk] for pk in dict.fromkeys(value)]


@extend_schema_serializer(component_name="ActivityCancel")
class ActivityCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class MemberIdField(serializers.PrimaryKeyRelatedField):
    """A live member's id. Whether that member may check in is the action's question (not_invited)."""

    default_error_messages = {
        "does_not_exist": _("No member with id {pk_value} exists."),
        "incorrect_type": _("Enter a member id (a UUID)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return Member.objects.select_related("branch")


@extend_schema_serializer(component_name="CheckIn")
class CheckInInputSerializer(serializers.Serializer):
    member = MemberIdField(help_text=_("Id of the member who checks in."))
    nonce = serializers.UUIDField(
        required=False, allow_null=True, help_text=_("Chosen by the device; the same nonce twice records once.")
    )
    scanned_at = serializers.DateTimeField(required=False, allow_null=True, help_text=_("When the device scanned."))
    method = serializers.ChoiceField(choices=[(m.value, m.label) for m in CHECK_IN_METHODS], required=False)
    force = serializers.BooleanField(
        required=False, default=False, help_text=_("An offline scan uploaded later: keep `scanned_at`.")
    )
    duration_minutes = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_(
            "The token of the QR code on the activity's live page (the last part of the check-in link). "
            "Required when members check themselves in with method qr; organisers need not send it."
        ),
    )

    def validate(self, attrs):
        if attrs.get("force") and not attrs.get("scanned_at"):
            raise serializers.ValidationError({"scanned_at": [_("An offline scan needs its scanned_at time.")]})
        return attrs


#
# Compliance (三会一课), read-only
#
class CompliancePeriodSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text=_("Activity kind the rule requires."))
    period = serializers.CharField(help_text=_("month, quarter or year."))
    start = serializers.DateField(help_text=_("First day of the period."))
    end = serializers.DateField(help_text=_("First day after the period."))
    held = serializers.IntegerField()
    required = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["met", "missing", "due", "upcoming"])


class ComplianceMonthSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    counts = serializers.DictField(child=serializers.IntegerField(), help_text=_("Held activities by kind."))


class ComplianceBranchSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="branch.pk")
    name = serializers.CharField(source="branch.name")
    kind = serializers.CharField(source="branch.kind")
    months = serializers.SerializerMethodField()
    periods = CompliancePeriodSerializer(many=True)

    @extend_schema_field(ComplianceMonthSerializer(many=True))
    def get_months(self, obj) -> list:
        return [{"month": i + 1, "counts": counts} for i, counts in enumerate(obj.months)]


class ComplianceSerializer(serializers.Serializer):
    branch = serializers.UUIDField(help_text=_("The organisation asked for; `branches` also lists its subtree."))
    year = serializers.IntegerField()
    months = ComplianceMonthSerializer(many=True, help_text=_("Held activities by month, summed over the subtree."))
    branches = ComplianceBranchSerializer(many=True)


class ComplianceQuerySerializer(serializers.Serializer):
    branch = serializers.UUIDField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)
