"""Serializers of the branches API: shared output representations and the input shapes of each write.

Input serializers check shape only (types, formats, ranges, required fields) and resolve ids to
records in the caller's view scope; the rules live in branches/actions.py.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from stdnum.cn import uscc

from branches.choices import BranchBasis, BranchKind, EconomicType, UnitSize, UnitType
from branches.models import Branch, Unit
from branches.models import validate_credit_code as credit_code_validator
from branches.permissions import branch_scope
from branches.selectors import branch_warnings, unit_list
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer


#
# Output
#
class BranchWarningSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text=_("Machine code of the rule, e.g. too_few_full_members."))
    message = serializers.CharField(read_only=True)


@extend_schema_serializer(component_name="Branch")
class BranchOutputSerializer(SyncedOutputSerializer):
    """An organisation as the API shows it (detail, lists, change feed)."""

    # Fed from `selectors.branch_list` with `units` prefetched, a list costs no query per row (the
    # counts behind child_count and warnings are annotations); other objects work, at a few queries each.

    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    units = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True, help_text=_("Ids of the units the organisation covers.")
    )
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
    )
    child_count = serializers.SerializerMethodField(help_text=_("Number of direct child organisations."))
    warnings = serializers.SerializerMethodField(help_text=_("Rule checks of the organisation; they never block."))

    class Meta(SyncedOutputSerializer.Meta):
        model = Branch
        fields = (
            *ENVELOPE_FIELDS,
            "name",
            "parent",
            "kind",
            "basis",
            "is_joint",
            "is_temporary",
            "is_functional",
            "units",
            "address",
            "latitude",
            "longitude",
            "founded_on",
            "elected_on",
            "term_years",
            "term_extension_months",
            "term_expires_on",
            "member_count",
            "full_member_count",
            "child_count",
            "depth",
            "warnings",
        )
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.INT)
    def get_child_count(self, obj: Branch) -> int:
        count = getattr(obj, "child_count", None)
        if count is None:
            count = obj.children.filter(deleted_at__isnull=True).count()
        return count

    @extend_schema_field(BranchWarningSerializer(many=True))
    def get_warnings(self, obj: Branch) -> list[dict]:
        return branch_warnings(obj)


@extend_schema_serializer(component_name="Unit")
class UnitOutputSerializer(SyncedOutputSerializer):
    """A unit as the API shows it; `branch` is the owning branch."""

    branch = serializers.UUIDField(source="branch_id", read_only=True, help_text=_("Id of the owning branch."))

    class Meta(SyncedOutputSerializer.Meta):
        model = Unit
        fields = (
            *ENVELOPE_FIELDS,
            "name",
            "credit_code",
            "unit_type",
            "size",
            "economic_type",
            "has_union",
            "address",
        )
        read_only_fields = fields


#
# Input
#
class ScopedBranchField(serializers.PrimaryKeyRelatedField):
    """A branch id, looked up among the branches the caller may see with `perm`.

    Outside that scope the id answers exactly like an unknown one, so input never reveals what exists.
    `keep_current` names the attribute of the record being changed whose current value is accepted
    even outside the scope: the parent of the top branch of an officer's scope lies above it, and a
    client sending back the representation it read must not be refused for it.
    """

    default_error_messages = {
        "does_not_exist": _("No organisation with id {pk_value} exists in your scope."),
        "incorrect_type": _("Enter an organisation id (a UUID)."),
    }

    def __init__(self, *, perm: str = "branches.view", keep_current: str | None = None, **kwargs):
        self.perm = perm
        self.keep_current = keep_current
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        scope = branch_scope(self.context["request"].user, self.perm)
        instance = getattr(self.root, "instance", None)
        current = getattr(instance, self.keep_current, None) if self.keep_current else None
        if current is None:
            return scope
        return scope | Branch.objects.filter(pk=current)


class ScopedUnitField(serializers.PrimaryKeyRelatedField):
    """A unit id among the units the caller may see."""

    default_error_messages = {
        "does_not_exist": _("No unit with id {pk_value} exists in your scope."),
        "incorrect_type": _("Enter a unit id (a UUID)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        return unit_list(actor=self.context["request"].user)


class CoordinateField(serializers.DecimalField):
    """A latitude or longitude; extra decimals (as from a GPS) are rounded to the six that are stored."""

    def __init__(self, *, limit: int, **kwargs):
        super().__init__(
            max_digits=9,
            decimal_places=6,
            min_value=Decimal(-limit),
            max_value=Decimal(limit),
            coerce_to_string=False,
            **kwargs,
        )

    def validate_precision(self, value):
        try:
            value = value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # far out of range (e.g. 1e308): too many digits to round
            self.fail("max_digits", max_digits=self.max_digits)
        return super().validate_precision(value)


class CreditCodeField(serializers.CharField):
    """A unified social credit code; spaces and hyphens are dropped and letters upper-cased. Empty means none."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [credit_code_validator])
        super().__init__(allow_null=True, allow_blank=True, **kwargs)

    def to_internal_value(self, data):
        return uscc.compact(super().to_internal_value(data))


def _blank_to_none(value):
    return value or None


@extend_schema_serializer(component_name="BranchInput")
class BranchInputSerializer(serializers.Serializer):
    """Fields a client may set on a branch (create, PUT, PATCH). Absent optional fields are left unchanged.

    On PUT and PATCH the serializer gets the branch as `instance`, for `parent`'s keep_current only.
    """

    name = serializers.CharField(max_length=200)
    parent = ScopedBranchField(
        keep_current="parent_id",
        allow_null=True,
        help_text=_("Id of the parent organisation; null for a top-level one (administrators only)."),
    )
    kind = serializers.ChoiceField(choices=BranchKind.choices, required=False)
    basis = serializers.ChoiceField(choices=BranchBasis.choices, required=False)
    is_joint = serializers.BooleanField(required=False)
    is_temporary = serializers.BooleanField(required=False)
    is_functional = serializers.BooleanField(required=False)
    units = ScopedUnitField(many=True, required=False, help_text=_("Ids of the units the organisation covers."))
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    latitude = CoordinateField(limit=90, required=False, allow_null=True)
    longitude = CoordinateField(limit=180, required=False, allow_null=True)
    founded_on = serializers.DateField(required=False, allow_null=True)
    elected_on = serializers.DateField(required=False, allow_null=True)
    term_years = serializers.IntegerField(
        min_value=1,
        max_value=32767,
        required=False,
        allow_null=True,
        help_text=_("Term length in years; empty means the usual length for the kind."),
    )
    term_extension_months = serializers.IntegerField(min_value=0, max_value=12, required=False)
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)

    def validate_external_ref(self, value):
        return _blank_to_none(value)


@extend_schema_serializer(component_name="BranchMove")
class BranchMoveInputSerializer(serializers.Serializer):
    parent = ScopedBranchField(help_text=_("Id of the new parent organisation."))


@extend_schema_serializer(component_name="UnitInput")
class UnitInputSerializer(serializers.Serializer):
    """Fields a client may set on a unit (create, PUT, PATCH). Absent optional fields are left unchanged."""

    branch = ScopedBranchField(perm="units.view", keep_current="branch_id", help_text=_("Id of the owning branch."))
    name = serializers.CharField(max_length=200)
    credit_code = CreditCodeField(
        required=False, help_text=_("Unified social credit code (18 characters); unique among units.")
    )
    unit_type = serializers.ChoiceField(choices=UnitType.choices, required=False)
    size = serializers.ChoiceField(choices=UnitSize.choices, required=False)
    economic_type = serializers.ChoiceField(choices=EconomicType.choices, required=False)
    has_union = serializers.BooleanField(required=False)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    external_ref = serializers.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)

    def validate_credit_code(self, value):
        return _blank_to_none(value)

    def validate_external_ref(self, value):
        return _blank_to_none(value)
