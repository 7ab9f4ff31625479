"""REST API of transfers: /api/v1/transfers/ (API.md), with one POST per state change.

Both sides read a transfer (the sending and the receiving branch's scopes). A state change that the
transition table forbids answers 409; input shape is checked here, the rules live in
members/actions/transfers.py.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from branches.models import Branch
from branches.permissions import ScopedPermission, branch_scope
from core.api.schema import IF_MATCH, error_responses, etag_header, precondition_failed_response
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.api.viewsets import SyncedRecordViewSet
from members.actions import transfers as transfer_actions
from members.choices import MemberCategory
from members.filters_transfers import TransferFilter
from members.models import Member, Transfer
from members.models.transfers import TransferKind, TransferStatus
from members.selectors_transfers import transfer_list


#
# Serializers
#
class TransferOutputSerializer(SyncedOutputSerializer):
    """A transfer; `branch` is the owning (sending) branch, or the receiving one for a transfer in from outside."""

    kind = serializers.ChoiceField(choices=TransferKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=TransferStatus.choices, read_only=True)
    member = serializers.UUIDField(source="member_id", read_only=True, allow_null=True)
    member_name = serializers.SerializerMethodField(help_text=_("Name of the person transferred."))
    from_branch = serializers.UUIDField(source="from_branch_id", read_only=True, allow_null=True)
    to_branch = serializers.UUIDField(source="to_branch_id", read_only=True, allow_null=True)
    issuing_committee = serializers.UUIDField(source="issuing_committee_id", read_only=True, allow_null=True)

    class Meta(SyncedOutputSerializer.Meta):
        model = Transfer
        fields = (
            *ENVELOPE_FIELDS,
            "kind",
            "member",
            "member_name",
            "from_branch",
            "from_outside",
            "to_branch",
            "to_outside",
            "status",
            "reason",
            "issuing_committee",
            "letter_year",
            "letter_number",
            "issued_on",
            "valid_until",
            "dues_paid_until",
            "accepted_on",
            "receipt_returned_on",
            "completed_on",
            "closed_reason",
        )
        read_only_fields = fields

    def get_member_name(self, obj) -> str:
        return obj.member.name if obj.member_id else obj.incoming_name


class IncomingPersonSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    citizen_id = serializers.CharField(max_length=30)
    category = serializers.ChoiceField(choices=MemberCategory.choices)
    joined_on = serializers.DateField()


class TransferCreateInputSerializer(serializers.Serializer):
    member = serializers.PrimaryKeyRelatedField(
        queryset=Member.objects.none(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
        help_text=_("The member moving (within the system or out of it); left out for a transfer in from outside."),
    )
    to_branch = serializers.PrimaryKeyRelatedField(
        queryset=Branch.objects.all(),
        pk_field=serializers.UUIDField(),
        required=False,
        allow_null=True,
        help_text=_("Receiving branch; it may lie outside your scope."),
    )
    to_outside = serializers.CharField(max_length=200, required=False, allow_blank=True)
    from_outside = serializers.CharField(max_length=200, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    incoming = IncomingPersonSerializer(required=False, help_text=_("The person coming in from outside."))
    external_ref = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema generator builds the serializer without a request
            return
        user = request.user
        self.fields["member"].queryset = Member.objects.filter(
            branch__in=branch_scope(user, "transfers.change").values("pk")
        )


class TransferIssueInputSerializer(serializers.Serializer):
    valid_days = serializers.IntegerField(required=False, help_text=_("Validity of the letter in days (30–90)."))
    dues_paid_until = serializers.DateField(required=False, allow_null=True, help_text=_("Any day of the month."))
    issued_on = serializers.DateField(required=False)
    letter_number = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text=_("For a transfer in from outside only.")
    )


class TransferAcceptInputSerializer(serializers.Serializer):
    accepted_on = serializers.DateField(required=False)


class TransferReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class TransferReceiptInputSerializer(serializers.Serializer):
    returned_on = serializers.DateField(required=False)


_ACTION_RESPONSES = {
    200: TransferOutputSerializer,
    **error_responses(400, 401, 403, 404, 409, 415),
    **precondition_failed_response(TransferOutputSerializer),
}


def _state_action(summary, request_serializer=None, description=""):
    return extend_schema(
        summary=summary,
        description=description,
        request=request_serializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_ACTION_RESPONSES,
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("List transfers"),
        description=_("Transfers whose sending or receiving branch is in the caller's scope, oldest first."),
        responses={200: TransferOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get a transfer"),
        parameters=[etag_header(200)],
        responses={200: TransferOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class TransferViewSet(SyncedRecordViewSet):
    """Transfers of members between branches, and in and out of the system."""

    serializer_class = TransferOutputSerializer
    filterset_class = TransferFilter
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "transfers"

    def get_queryset(self):
        return transfer_list(actor=self.request.user)

    @extend_schema(
        summary=_("Draft a transfer"),
        description=_(
            "`member` with `to_branch` (within the system) or `to_outside` (out of it); or `from_outside` with "
            "`to_branch` and `incoming` for a person coming in. A member has at most one open transfer."
        ),
        request=TransferCreateInputSerializer,
        parameters=[etag_header(201)],
        responses={201: TransferOutputSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(TransferCreateInputSerializer)
        incoming = data.pop("incoming", None)
        transfer = transfer_actions.transfer_create(actor=request.user, incoming=incoming, **data)
        return self.created_response(transfer)

    def _act(self, function, serializer_class=None):
        with self.write_target() as transfer:
            data = self.validated_input(serializer_class) if serializer_class else {}
            transfer = function(actor=self.request.user, transfer=transfer, **data)
        return self.record_response(self.fresh(transfer.pk))

    @_state_action(
        _("Issue the introduction letter"),
        TransferIssueInputSerializer,
        _("Allocates the letter number of the issuing committee for the year; draft only."),
    )
    @action(detail=True, methods=["post"])
    def issue(self, request, *args, **kwargs):
        return self._act(transfer_actions.transfer_issue, TransferIssueInputSerializer)

    @_state_action(
        _("Accept the transfer"),
        TransferAcceptInputSerializer,
        _("The receiving side accepts; the member's formal branch moves. An expired letter answers 409."),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, *args, **kwargs):
        return self._act(transfer_actions.transfer_accept, TransferAcceptInputSerializer)

    @_state_action(_("Reject the transfer"), TransferReasonInputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        return self._act(transfer_actions.transfer_reject, TransferReasonInputSerializer)

    @_state_action(_("Record the returned receipt"), TransferReceiptInputSerializer)
    @action(detail=True, methods=["post"], url_path="return-receipt")
    def return_receipt(self, request, *args, **kwargs):
        return self._act(transfer_actions.transfer_return_receipt, TransferReceiptInputSerializer)

    @_state_action(_("Complete the transfer"), None, _("A person coming in from outside gets a member record."))
    @action(detail=True, methods=["post"])
    def complete(self, request, *args, **kwargs):
        return self._act(transfer_actions.transfer_complete)

    @_state_action(_("Cancel the transfer"), TransferReasonInputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        return self._act(transfer_actions.transfer_cancel, TransferReasonInputSerializer)
