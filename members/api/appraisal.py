"""REST API of the annual member appraisal (民主评议党员, read only): /api/v1/appraisal-rounds/.

Same access as the secretary pages (members/views_appraisal.py): the rounds of the branches in the
caller's "members.change" scope, through `appraisal_round_list`; callers holding that permission nowhere
get 403. Each round carries its counts; once CLOSED (never before) it also carries `results`: per member
appraised, the final grade and how many peers gave each grade. Peer ratings leave the API as counts
only: never who rated whom, never a rater's id.

The counts are read live. The change feed carries a round when the round itself changes (opened,
rating ended, closed), so a feed client's counts may lag until then; its `results` are final at the close.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated

from branches.permissions import has_perm_anywhere
from core.api.schema import error_responses, etag_header
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.api.viewsets import SyncedRecordViewSet
from members.filters_appraisal import AppraisalRoundFilter
from members.models import AppraisalRound
from members.models.appraisal import AppraisalGrade, AppraisalStatus
from members.selectors_appraisal import GRADE_COUNT_FIELDS, appraisal_round_results_list

#: the permission of the secretary pages (AppraisalRound.for_actor's default)
APPRAISAL_PERM = "members.change"


#
# Output
#
class PeerRatingCountsSerializer(serializers.Serializer):
    """How many peers gave each grade (counts only: who rated whom is never shown)."""

    excellent = serializers.IntegerField()
    qualified = serializers.IntegerField()
    basically_qualified = serializers.IntegerField()
    unqualified = serializers.IntegerField()


class AppraisalResultSerializer(serializers.Serializer):
    """One member's result in a closed round."""

    member = serializers.UUIDField(help_text=_("Id of the member appraised."))
    name = serializers.CharField(help_text=_("The member's name (as the member list shows it)."))
    final_grade = serializers.ChoiceField(choices=AppraisalGrade.choices)
    peer_ratings = PeerRatingCountsSerializer()


class AppraisalRoundOutputSerializer(SyncedOutputSerializer):
    """An appraisal round with its counts; `results` is null until the round is closed."""

    status = serializers.ChoiceField(choices=AppraisalStatus.choices, read_only=True)
    appraised_count = serializers.IntegerField(read_only=True, help_text=_("Members appraised in the round."))
    self_assessments_submitted = serializers.IntegerField(
        source="submitted_count", read_only=True, help_text=_("Members who have handed in a self-assessment.")
    )
    graded_count = serializers.IntegerField(read_only=True, help_text=_("Members with a final grade so far."))
    results = serializers.SerializerMethodField(
        help_text=_("Closed rounds only (null before): the final grade and peer-rating counts of each member.")
    )

    class Meta(SyncedOutputSerializer.Meta):
        model = AppraisalRound
        fields = (
            *ENVELOPE_FIELDS,
            "year",
            "status",
            "self_assessment_due",
            "rating_due",
            "excellent_cap_percent",
            "opened_at",
            "closed_at",
            "appraised_count",
            "self_assessments_submitted",
            "graded_count",
            "results",
        )
        read_only_fields = fields

    @extend_schema_field(AppraisalResultSerializer(many=True, allow_null=True))
    def get_results(self, obj) -> list | None:
        if obj.status != AppraisalStatus.CLOSED:
            return None
        return [
            {
                "member": str(subject.member_id),
                "name": subject.member.name,
                "final_grade": subject.final_grade,
                "peer_ratings": {grade: getattr(subject, field) for grade, field in GRADE_COUNT_FIELDS.items()},
            }
            for subject in obj.closed_rows
        ]


class CanRunAppraisals(BasePermission):
    """As the secretary pages: people who keep member records somewhere (members.change)."""

    def has_permission(self, request, view):
        return has_perm_anywhere(request.user, APPRAISAL_PERM)


@extend_schema_view(
    list=extend_schema(
        summary=_("List appraisal rounds"),
        description=_(
            "Annual member appraisal rounds of the branches where the caller may change member records, oldest "
            "first (by last change with `updated_since`). `results` (final grades and peer-rating counts per "
            "member) appears once a round is closed; who rated whom is never shown."
        ),
        responses={200: AppraisalRoundOutputSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary=_("Get an appraisal round"),
        parameters=[etag_header(200)],
        responses={200: AppraisalRoundOutputSerializer, **error_responses(401, 403, 404)},
    ),
)
class AppraisalRoundViewSet(SyncedRecordViewSet):
    """Annual member appraisal rounds, read only (written on the pages)."""

    serializer_class = AppraisalRoundOutputSerializer
    permission_classes = [IsAuthenticated, CanRunAppraisals]
    filterset_class = AppraisalRoundFilter
    # The change feed asks "members.view" for its remove/delete entries; the records themselves come
    # through get_queryset (members.change), so the feed's data never reaches further than the pages.
    scope_area = "members"
    #: the change feed's scope: the same as the pages' (grades are personnel judgements; organisers don't see them)
    scope_perm = "members.change"

    def get_queryset(self):
        return appraisal_round_results_list(actor=self.request.user, perm=APPRAISAL_PERM)
