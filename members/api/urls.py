"""Routes of the members API, included under /api/v1/ in the "api" namespace (api:member-list, …)."""

from rest_framework.routers import SimpleRouter

from members.api.development import ApplicantViewSet
from members.api.dues import DuesPaymentViewSet
from members.api.transfers import TransferViewSet
from members.api.views import MemberViewSet

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("applicants", ApplicantViewSet, basename="applicant")
router.register("dues-payments", DuesPaymentViewSet, basename="dues-payment")

urlpatterns = router.urls
