"""API routes for appraisal, included under /api/v1/ in the "api" namespace (api:appraisal-round-list, -detail)."""

from rest_framework.routers import SimpleRouter

from members.api.appraisal import AppraisalRoundViewSet

router = SimpleRouter()
router.register("appraisal-rounds", AppraisalRoundViewSet, basename="appraisal-round")

urlpatterns = router.urls
