"""REST API of the development pipeline: /api/v1/applicants/ (list, detail, create, record-step, record-vote).

Reads start from `applicant_list` (scope of "members.view"; 404 outside). Each applicant carries its
steps, votes and the interval warnings. Writes check input shape here and call the actions, which
refuse impossible orders, a vote without quorum, temporary branches and so on (400 naming the field).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from branches.api.serializers import ScopedBranchField
from branches.permissions import ScopedPermission
from core.api.schema import IF_MATCH, error_responses, etag_header, precondition_failed_response
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.api.viewsets import SyncedRecordViewSet
from members.actions import development as development_actions
from members.choices import Occupation
from members.models import Applicant, AssemblyVote, DevelopmentStep
from members.models.development import (
    VOTE_STEPS,
    ApplicantStatus,
    DevelopmentStage,
    StepCode,
    VotePurpose,
)
from members.selectors_development import applicant_list, applicant_warnings, intervals


#
# Serializers
#
class DevelopmentStepOutputSerializer(serializers.ModelSerializer):
    code = serializers.ChoiceField(choices=StepCode.choices, read_only=True)
    documents = serializers.SerializerMethodField(help_text=_("File names of the attached documents."))

    class Meta:
        model = DevelopmentStep
        fields = ("id", "code", "done_on", "actor_name", "notes", "documents")
        read_only_fields = fields

    def get_documents(self, obj) -> list[str]:
        return [d.name for d in obj.documents.all()]


class AssemblyVoteOutputSerializer(serializers.ModelSerializer):
    purpose = serializers.ChoiceField(choices=VotePurpose.choices, read_only=True)

    class Meta:
        model = AssemblyVote
        fields = ("id", "purpose", "held_on", "entitled", "attendance", "yes", "no", "abstain", "adopted")
        read_only_fields = fields


class ApplicantOutputSerializer(SyncedOutputSerializer):
    """An applicant with the timeline; `citizen_id` is always the mask (the full number lives on the member)."""

    citizen_id = serializers.CharField(source="citizen_id_masked", read_only=True)
    stage = serializers.ChoiceField(choices=DevelopmentStage.choices, read_only=True)
    status = serializers.ChoiceField(choices=ApplicantStatus.choices, read_only=True)
    member = serializers.UUIDField(source="member_id", read_only=True, allow_null=True)
    steps = DevelopmentStepOutputSerializer(many=True, read_only=True)
    votes = AssemblyVoteOutputSerializer(many=True, read_only=True)
    warnings = serializers.SerializerMethodField(
        help_text=_("Interval rules broken (warnings, in the user's language).")
    )

    class Meta(SyncedOutputSerializer.Meta):
        model = Applicant
        fields = (
            *ENVELOPE_FIELDS,
            "name",
            "citizen_id",
            "sex",
            "birth_date",
            "occupation",
            "applied_on",
            "stage",
            "status",
            "member",
            "probation_ends_on",
            "extension_months",
            "ended_on",
            "steps",
            "votes",
            "warnings",
        )
        read_only_fields = fields

    def get_warnings(self, obj) -> list[str]:
        if "lengths" not in self.context:
            self.context["lengths"] = intervals()
        return applicant_warnings(obj, lengths=self.context["lengths"])


class ApplicantInputSerializer(serializers.Serializer):
    branch = ScopedBranchField(perm="members.change")
    name = serializers.CharField(max_length=100)
    citizen_id = serializers.CharField(max_length=18)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    occupation = serializers.ChoiceField(choices=Occupation.choices, required=False, allow_blank=True, default="")
    applied_on = serializers.DateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class StepInputSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[c for c in StepCode.choices if c[0] not in VOTE_STEPS])
    done_on = serializers.DateField()
    actor_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class VoteInputSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=VotePurpose.choices)
    held_on = serializers.DateField()
    attendance = serializers.IntegerField(min_value=0)
    yes = serializers.IntegerField(min_value=0)
    no = serializers.IntegerField(min_value=0)
    abstain = serializers.IntegerField(min_value=0)
    adopted = serializers.BooleanField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


_WRITE = {
    200: ApplicantOutputSerializer,
    **error_responses(400, 401, 403, 404, 409, 415),
    **precondition_failed_response(ApplicantOutputSerializer),
}


@extend_schema_view(
    list=extend_schema(
        summary=_("List applicants"),
        description=_(
            "People on the way to membership (发展党员) at branches in the caller's scope, with their steps, "
            "assembly votes and interval warnings. Applicants are not members: they never appear in member lists."
        ),
        responses={200: ApplicantOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get an applicant"),
        parameters=[etag_header(200)],
        responses={200: ApplicantOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class ApplicantViewSet(SyncedRecordViewSet):
    serializer_class = ApplicantOutputSerializer
    permission_classes = [IsAuthenticated, ScopedPermission]
    scope_area = "members"

    def get_queryset(self):
        return applicant_list(actor=self.request.user)

    def get_serializer_context(self):
        # The interval table is read once per response, not once per applicant.
        return {**super().get_serializer_context(), "lengths": intervals()}

    @extend_schema(
        summary=_("Record an application"),
        description=_("Step 1. The applicant must be 18 on the application date; temporary branches are refused."),
        request=ApplicantInputSerializer,
        parameters=[etag_header(201)],
        responses={201: ApplicantOutputSerializer, **error_responses(400, 401, 403, 404, 415)},
    )
    def create(self, request, *args, **kwargs):
        data = self.validated_input(ApplicantInputSerializer)
        applicant = development_actions.applicant_create(actor=request.user, **data)
        return self.created_response(applicant)

    @extend_schema(
        summary=_("Record a step"),
        description=_(
            "One of the 25 steps except the votes (use record-vote). Refused when a step it needs is missing or "
            "later, when it was already done (reviews may repeat), or full membership before probation ends."
        ),
        request=StepInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE,
    )
    @action(detail=True, methods=["post"], url_path="record-step")
    def record_step(self, request, *args, **kwargs):
        with self.write_target() as applicant:
            data = self.validated_input(StepInputSerializer)
            development_actions.development_step_record(actor=request.user, applicant=applicant, **data)
        return self.record_response(self.fresh(applicant.pk))

    @extend_schema(
        summary=_("Record a branch assembly vote"),
        description=_(
            "Checked against the branch's voting members on the date: voting members present must be more than "
            "half of those entitled (else 400), and `adopted` must match yes votes > half of those entitled."
        ),
        request=VoteInputSerializer,
        parameters=[IF_MATCH, etag_header(200, 412)],
        responses=_WRITE,
    )
    @action(detail=True, methods=["post"], url_path="record-vote")
    def record_vote(self, request, *args, **kwargs):
        with self.write_target() as applicant:
            data = self.validated_input(VoteInputSerializer)
            development_actions.assembly_vote_record(actor=request.user, applicant=applicant, **data)
        return self.record_response(self.fresh(applicant.pk))
