"""The change feed's wiring: which resources it carries and the scope functions it asks.

Lives at the edge (beside the URL map) because it names every app's API, which core may not import.
"""

from activities.api.views import ActivityViewSet, AttendanceViewSet
from branches.api.views import BranchViewSet, UnitViewSet
from branches.permissions import branch_scope, scope_paths
from core.api.feed import ChangeFeedView
from members.api.appraisal import AppraisalRoundViewSet
from members.api.development import ApplicantViewSet
from members.api.dues import DuesPaymentViewSet
from members.api.notices import NoticeViewSet
from members.api.transfers import TransferViewSet
from members.api.views import MemberViewSet
from members.api.votes import VoteViewSet
from services.api.views import CaseViewSet, StationViewSet, WorkerViewSet

FEED_TYPES = {
    "branch": BranchViewSet,
    "unit": UnitViewSet,
    "member": MemberViewSet,
    "transfer": TransferViewSet,
    "applicant": ApplicantViewSet,
    "dues_payment": DuesPaymentViewSet,
    "notice": NoticeViewSet,
    "vote": VoteViewSet,
    "appraisal_round": AppraisalRoundViewSet,
    "activity": ActivityViewSet,
    "attendance": AttendanceViewSet,
    "worker": WorkerViewSet,
    "case": CaseViewSet,
    "station": StationViewSet,
}

change_feed = ChangeFeedView.as_view(types=FEED_TYPES, scope_paths=scope_paths, branch_scope=branch_scope)
