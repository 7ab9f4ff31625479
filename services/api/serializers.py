"""Serializers of the services API. Phone and ID numbers are always masked here: the full values are
shown on the worker page to roles that may see them, one audited view at a time."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from branches.api.serializers import ScopedBranchField
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.models import User
from members.choices import Occupation
from members.models import Platform
from services.choices import Amenity, CasePriority, IntakeChannel, PartnerKind, ReferralStatus
from services.models import Case, CaseEvent, CaseType, Referral, Station, Worker


#
# Output
#
@extend_schema_serializer(component_name="Worker")
class WorkerOutputSerializer(SyncedOutputSerializer):
    phone = serializers.CharField(source="phone_masked", read_only=True, help_text=_("Masked: 138****5678."))
    citizen_id = serializers.CharField(
        source="citizen_id_masked", read_only=True, help_text=_("Masked: 110101********1234; empty when unknown.")
    )
    platforms = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    member = serializers.UUIDField(source="member_id", read_only=True, allow_null=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = Worker
        fields = (*ENVELOPE_FIELDS, "name", "phone", "citizen_id", "platforms", "occupation", "area", "member")
        read_only_fields = fields


@extend_schema_serializer(component_name="Referral")
class ReferralOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Referral
        fields = ("id", "partner_kind", "partner_name", "status", "note", "sent_at", "updated_at")
        read_only_fields = fields


@extend_schema_serializer(component_name="CaseAttachment")
class AttachmentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseEvent
        fields = ("id", "at", "file_name", "file_size", "content_type", "is_public")
        read_only_fields = fields


@extend_schema_serializer(component_name="Case")
class CaseOutputSerializer(SyncedOutputSerializer):
    worker = serializers.UUIDField(source="worker_id", read_only=True)
    case_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    station = serializers.UUIDField(source="station_id", read_only=True, allow_null=True)
    assignee = serializers.CharField(source="assignee.username", read_only=True, allow_null=True, default=None)
    breached = serializers.SerializerMethodField(help_text=_("Kinds of deadline this case missed."))
    referrals = ReferralOutputSerializer(many=True, read_only=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = Case
        fields = (
            *ENVELOPE_FIELDS,
            "worker",
            "case_type",
            "status",
            "priority",
            "channel",
            "description",
            "station",
            "assignee",
            "tracking_code",
            "opened_at",
            "first_responded_at",
            "first_response_due",
            "resolution_due",
            "resolved_at",
            "closed_at",
            "resolution_summary",
            "rating",
            "suspected_spam",
            "breached",
            "referrals",
        )
        read_only_fields = fields

    def get_breached(self, obj) -> list[str]:
        return [b.kind for b in obj.breaches.all()]


@extend_schema_serializer(component_name="Station")
class StationOutputSerializer(SyncedOutputSerializer):
    amenities = serializers.ListField(child=serializers.ChoiceField(choices=Amenity.choices), read_only=True)
    visit_count = serializers.IntegerField(read_only=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = Station
        fields = (
            *ENVELOPE_FIELDS,
            "name",
            "address",
            "latitude",
            "longitude",
            "hours",
            "amenities",
            "contact_name",
            "contact_phone",
            "is_active",
            "visit_count",
        )
        read_only_fields = fields


#
# Input
#
class WorkerInputSerializer(serializers.Serializer):
    branch = ScopedBranchField(perm="services.change")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    citizen_id = serializers.CharField(max_length=20, required=False, allow_blank=True)
    platforms = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Platform.objects.all(), required=False
    )
    occupation = serializers.ChoiceField(choices=Occupation.choices, required=False, allow_blank=True)
    area = serializers.CharField(max_length=100, required=False, allow_blank=True)
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True)


class CaseInputSerializer(serializers.Serializer):
    branch = ScopedBranchField(perm="services.change")
    worker = serializers.PrimaryKeyRelatedField(queryset=Worker.objects.all(), pk_field=serializers.UUIDField())
    case_type = serializers.SlugRelatedField(slug_field="code", queryset=CaseType.objects.filter(is_active=True))
    description = serializers.CharField(max_length=5000)
    channel = serializers.ChoiceField(choices=IntakeChannel.choices)
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False, default="normal")
    station = serializers.PrimaryKeyRelatedField(
        queryset=Station.objects.all(), pk_field=serializers.UUIDField(), required=False, allow_null=True
    )
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True)

    def validate_worker(self, worker):
        from services.selectors import worker_list

        if not worker_list(actor=self.context["request"].user).filter(pk=worker.pk).exists():
            raise serializers.ValidationError(_("No worker with this id exists in your scope."))
        return worker


class AssignInputSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(is_active=True))


class WaitInputSerializer(serializers.Serializer):
    on = serializers.ChoiceField(
        choices=[("waiting_worker", "waiting_worker"), ("waiting_partner", "waiting_partner")]
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveInputSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=5000)


class ReopenInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class NoteInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)
    is_public = serializers.BooleanField(required=False, default=False)


class ReferInputSerializer(serializers.Serializer):
    partner_kind = serializers.ChoiceField(choices=PartnerKind.choices)
    partner_name = serializers.CharField(max_length=200)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class StationInputSerializer(serializers.Serializer):
    branch = ScopedBranchField(perm="services.change")
    name = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=300)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    hours = serializers.CharField(max_length=100, required=False, allow_blank=True)
    amenities = serializers.ListField(child=serializers.ChoiceField(choices=Amenity.choices), required=False)
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True)


class WorkerUpdateInputSerializer(WorkerInputSerializer):
    """A change to a worker: as on create, without `external_ref` (set once, when the record is created)."""

    external_ref = None


class StationUpdateInputSerializer(StationInputSerializer):
    """A change to a station: as on create, without `external_ref` (set once, when the record is created)."""

    external_ref = None


class AttachmentInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A photo (JPEG, PNG, WebP) or a PDF; the type is read from the content."))
    is_public = serializers.BooleanField(required=False, default=False)


class ReferralStatusInputSerializer(serializers.Serializer):
    referral = serializers.UUIDField(help_text=_("The id of one of the case's `referrals`."))
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
