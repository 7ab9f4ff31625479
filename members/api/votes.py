"""REST API of branch votes (read only): /api/v1/votes/.

A caller sees the votes of the branches in its "votes.view" scope and, as a member, the open and closed
votes of its own branch (selectors_votes.vote_list). Ballots are never exposed: an open vote shows only
how many have voted (no counts per option, so early results cannot sway anyone); a closed vote shows the
result recorded at its close.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated

from core.api.schema import error_responses, etag_header
from core.api.serializers import ENVELOPE_FIELDS, SyncedOutputSerializer
from core.api.viewsets import SyncedRecordViewSet
from members.models import Vote, VoteOption
from members.models.votes import DecisionChoice, VoteKind, VoteOutcome, VoteStatus
from members.selectors_votes import vote_list
from members.voting_rules import ThresholdRule


class VoteOptionOutputSerializer(serializers.ModelSerializer):
    """An option on the ballot; `code` is for / against / abstain for a decision, "" for a candidate."""

    code = serializers.ChoiceField(choices=DecisionChoice.choices, allow_blank=True, read_only=True)

    class Meta:
        model = VoteOption
        fields = ("id", "label", "code", "position")
        read_only_fields = fields


class VoteTallySerializer(serializers.Serializer):
    option = serializers.UUIDField(help_text=_("Id of the option."))
    label = serializers.CharField()
    votes = serializers.IntegerField()
    elected = serializers.BooleanField(allow_null=True, help_text=_("Elections only; null for a decision."))


class VoteResultSerializer(serializers.Serializer):
    """The result recorded when the vote closed."""

    outcome = serializers.ChoiceField(choices=VoteOutcome.choices)
    eligible_count = serializers.IntegerField(help_text=_("Members entitled to vote (the roll taken at opening)."))
    ballots_cast = serializers.IntegerField()
    closed_at = serializers.DateTimeField()
    closed_automatically = serializers.BooleanField(help_text=_("Closed by the system at its closing time."))
    tallies = VoteTallySerializer(many=True)


class VoteOutputSerializer(SyncedOutputSerializer):
    """A vote; `result` is null until it is closed, and ballots are never shown."""

    kind = serializers.ChoiceField(choices=VoteKind.choices, read_only=True)
    status = serializers.ChoiceField(choices=VoteStatus.choices, read_only=True)
    quorum_rule = serializers.ChoiceField(choices=ThresholdRule.choices, read_only=True)
    majority_rule = serializers.ChoiceField(choices=ThresholdRule.choices, read_only=True)
    options = VoteOptionOutputSerializer(many=True, read_only=True)
    ballots_count = serializers.SerializerMethodField(
        help_text=_("How many members have voted so far (no counts per option before the close).")
    )
    result = serializers.SerializerMethodField()

    class Meta(SyncedOutputSerializer.Meta):
        model = Vote
        fields = (
            *ENVELOPE_FIELDS,
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
            "options",
            "ballots_count",
            "result",
        )
        read_only_fields = fields

    def get_ballots_count(self, obj) -> int:
        return obj.ballots_so_far

    @extend_schema_field(VoteResultSerializer(allow_null=True))
    def get_result(self, obj) -> dict | None:
        if obj.status != VoteStatus.CLOSED:
            return None
        return {
            "outcome": obj.outcome,
            "eligible_count": obj.eligible_count,
            "ballots_cast": obj.ballots_cast,
            "closed_at": serializers.DateTimeField().to_representation(obj.closed_at),
            "closed_automatically": obj.closed_by_id is None,
            "tallies": [
                {"option": str(o.pk), "label": o.label, "votes": o.tally or 0, "elected": o.elected}
                for o in obj.options.all()
            ],
        }


@extend_schema_view(
    list=extend_schema(
        summary=_("List votes"),
        description=_(
            "Votes of the branches in the caller's scope, and a member's own branch's open and closed votes. "
            "An open vote shows only how many have voted; `result` appears once it is closed."
        ),
        responses={200: VoteOutputSerializer(many=True), **error_responses(400, 401)},
    ),
    retrieve=extend_schema(
        summary=_("Get a vote"),
        parameters=[etag_header(200)],
        responses={200: VoteOutputSerializer, **error_responses(401, 404)},
    ),
)
class VoteViewSet(SyncedRecordViewSet):
    """Branch votes (decisions and elections), read only."""

    serializer_class = VoteOutputSerializer
    permission_classes = [IsAuthenticated]
    scope_area = "votes"  # the change feed's scope; members see their own votes through vote_list

    def get_queryset(self):
        return vote_list(actor=self.request.user)
