"""Serializers of the members API.

Output: `citizen_id` and `phone` are masked unless the record's id is in the context's `revealed`
set, which the view fills through `members.actions.member_reveal` (that call checks the role and
writes the audit entry). Without that set everything is masked, so a new caller is safe by default.

Input checks shape only and resolves ids within the caller's scope; the rules (ID number checks,
dates, uniqueness) live in members/actions.py and members/models.py.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from branches.api.serializers import ScopedBranchField, ScopedUnitField
from branches.models import Branch
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from members.choices import AffiliationKind, Education, Ethnicity, MemberCategory, MemberStatus, Occupation, Sex
from members.models import Affiliation, Member, Platform


#
# Output
#
class AffiliationOutputSerializer(serializers.ModelSerializer):
    branch = serializers.UUIDField(source="branch_id", read_only=True)

    class Meta:
        model = Affiliation
        fields = ("id", "branch", "kind", "started_on", "ended_on", "note")
        read_only_fields = fields


class MemberOutputSerializer(SyncedOutputSerializer):
    """A member as the API shows it; `branch` is the formal branch.

    Expects objects from `selectors.member_list` (branch joined, platforms and affiliations
    prefetched) so that a list costs no query per row.
    """

    citizen_id = serializers.SerializerMethodField(
        help_text=_("Citizen ID number; masked (110101********1234) unless the caller's role may see it in full.")
    )
    phone = serializers.SerializerMethodField(
        help_text=_("Phone number; masked (138****5678) unless the caller's role may see it in full.")
    )
    sensitive_masked = serializers.SerializerMethodField(
        help_text=_("True when citizen_id and phone are shown masked.")
    )
    platforms = serializers.SerializerMethodField(help_text=_("Codes of the platforms the member works for."))
    unit = serializers.UUIDField(
        source="unit_id", read_only=True, allow_null=True, help_text=_("Id of the employing unit.")
    )
    has_voting_rights = serializers.BooleanField(
        read_only=True,
        help_text=_(
            "Derived: a full member in normal standing, not under probation within the party; formal branch only."
        ),
    )
    affiliations = AffiliationOutputSerializer(many=True, read_only=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = Member
        fields = (
            *ENVELOPE_FIELDS,
            "name",
            "name_pinyin",
            "name_initials",
            "citizen_id",
            "phone",
            "sensitive_masked",
            "sex",
            "birth_date",
            "ethnicity",
            "education",
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
            "has_voting_rights",
            "affiliations",
        )
        read_only_fields = fields

    def _revealed(self, obj) -> bool:
        return obj.pk in self.context.get("revealed", ())

    @extend_schema_field(OpenApiTypes.STR)
    def get_citizen_id(self, obj: Member) -> str:
        return obj.citizen_id if self._revealed(obj) else obj.citizen_id_masked

    @extend_schema_field(OpenApiTypes.STR)
    def get_phone(self, obj: Member) -> str:
        return obj.phone if self._revealed(obj) else obj.phone_masked

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_sensitive_masked(self, obj: Member) -> bool:
        return not self._revealed(obj)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_platforms(self, obj: Member) -> list[str]:
        return [p.code for p in obj.platforms.all()]


#
# Input
#
class MemberInputSerializer(serializers.Serializer):
    """Fields a client may set on a member (create, PUT, PATCH). Absent optional fields keep their values."""

    branch = ScopedBranchField(perm="members.view", help_text=_("Id of the formal branch."))
    name = serializers.CharField(max_length=100)
    citizen_id = serializers.CharField(
        max_length=30,
        write_only=True,
        help_text=_("Citizen ID number, 18 characters, in full. Never put it in a URL."),
    )
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, write_only=True)
    sex = serializers.ChoiceField(
        choices=Sex.choices,
        required=False,
        allow_null=True,
        help_text=_("Taken from the ID number when left out or null; checked against it when given."),
    )
    birth_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("Taken from the ID number when left out or null; checked against it when given."),
    )
    ethnicity = serializers.ChoiceField(choices=Ethnicity.choices, required=False, allow_blank=True)
    education = serializers.ChoiceField(choices=Education.choices, required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=MemberCategory.choices)
    joined_on = serializers.DateField()
    full_member_on = serializers.DateField(required=False, allow_null=True)
    job_title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=MemberStatus.choices, required=False)
    lost_contact = serializers.BooleanField(required=False)
    lost_contact_since = serializers.DateField(required=False, allow_null=True)
    is_mobile = serializers.BooleanField(required=False)
    mobile_destination = serializers.CharField(max_length=200, required=False, allow_blank=True)
    occupation = serializers.ChoiceField(choices=Occupation.choices, required=False, allow_blank=True)
    platforms = serializers.SlugRelatedField(
        many=True,
        slug_field="code",
        queryset=Platform.objects.all(),
        required=False,
        help_text=_("Codes of the platforms the member works for (the whole list)."),
    )
    unit = ScopedUnitField(required=False, allow_null=True, help_text=_("Id of the employing unit."))
    shows_identity = serializers.BooleanField(required=False)
    under_probation_discipline = serializers.BooleanField(required=False)
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)

    def validate_external_ref(self, value):
        return value or None


class MemberLookupInputSerializer(serializers.Serializer):
    citizen_id = serializers.CharField(max_length=30, help_text=_("The full citizen ID number to look for."))


class AffiliationAddInputSerializer(serializers.Serializer):
    branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.all(),
        pk_field=serializers.UUIDField(),
        help_text=_("Id of the branch the member takes part in; it may lie outside your scope (a host branch)."),
    )
    kind = serializers.ChoiceField(choices=AffiliationKind.choices)
    started_on = serializers.DateField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AffiliationEndInputSerializer(serializers.Serializer):
    affiliation = serializers.UUIDField(help_text=_("Id of the member's affiliation to end."))
    ended_on = serializers.DateField(required=False, help_text=_("Last day; today when left out."))
