"""REST API of dues payments: /api/v1/dues-payments/ (list, detail, create).

A payment is listed to the collecting branch's scope and to the member's formal branch's scope
("dues.view"). Creating one checks input shape here; the action refuses months already paid,
negative or absurd amounts, months more than 6 away, temporary branches and so on (400 naming the field).
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from branches.api.serializers import ScopedBranchField
from branches.permissions import ScopedPermission, branch_scope
from core.api.schema import error_responses, etag_header
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.api.viewsets import SyncedRecordViewSet
from members.actions import dues as dues_actions
from members.choices import AffiliationKind
from members.models import DuesPayment, Member
from members.models.dues import PaymentMethod
from members.selectors_dues import dues_payment_list


class DuesPaymentOutputSerializer(SyncedOutputSerializer):
    """A payment; `branch` is the collecting branch, `member` the member it is credited to."""

    member = serializers.UUIDField(source="member_id", read_only=True)
    member_name = serializers.CharField(source="member.name", read_only=True)
    method = serializers.ChoiceField(choices=PaymentMethod.choices, read_only=True)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, coerce_to_string=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = DuesPayment
        fields = (
            *ENVELOPE_FIELDS,
            "member",
            "member_name",
            "period_from",
            "period_to",
            "amount",
            "method",
            "receipt_number",
            "paid_on",
            "note",
        )
        read_only_fields = fields


class PayingMemberField(serializers.PrimaryKeyRelatedField):
    """A member whose dues the caller keeps, or a mobile member visiting a host branch in the caller's scope."""

    default_error_messages = {
        "does_not_exist": _("No member with id {pk_value} exists in your scope."),
        "incorrect_type": _("Enter a member id (a UUID)."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.UUIDField())
        super().__init__(**kwargs)

    def get_queryset(self):
        user = self.context["request"].user
        scope = branch_scope(user, "dues.change")
        return (
            Member.objects.filter(
                Q(branch__in=scope)
                | Q(
                    is_mobile=True,
                    affiliations__kind=AffiliationKind.HOST,
                    affiliations__ended_on__isnull=True,
                    affiliations__branch__in=scope,
                )
            )
            .select_related("branch")
            .distinct()
        )


class DuesPaymentInputSerializer(serializers.Serializer):
    member = PayingMemberField()
    branch = ScopedBranchField(
        perm="dues.change", required=False, help_text=_("Collecting branch; the member's formal branch if left out.")
    )
    period_from = serializers.DateField(help_text=_("First month paid (any day of it)."))
    period_to = serializers.DateField(help_text=_("Last month paid (any day of it)."))
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    receipt_number = serializers.CharField(max_length=40)
    paid_on = serializers.DateField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        summary=_("List dues payments"),
        description=_("Payments collected by, or credited to members of, branches in the caller's scope."),
        responses={200: DuesPaymentOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get a dues payment"),
        parameters=[etag_header(200)],
        responses={200: DuesPaymentOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class DuesPaymentViewSet(SyncedRecordViewSet):
    serializer_class = DuesPaymentOutputSerializer
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "dues"

    def get_queryset(self):
        return dues_payment_list(actor=self.request.user)

    @extend_schema(
        summary=_("Record a dues payment"),
        description=_(
            "Refused (400): months already paid, amounts not above zero or below the assessed dues or absurd, "
            "months more than 6 away from the payment, several months without a `note` (a mobile member may pay a "
            "quarter), a collecting branch that is neither the formal nor an open host branch, temporary branches."
        ),
        request=DuesPaymentInputSerializer,
        parameters=[etag_header(201)],
        responses={201: DuesPaymentOutputSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(DuesPaymentInputSerializer)
        payment = dues_actions.dues_payment_record(actor=request.user, **data)
        return self.created_response(payment)
