"""Routes of the branches API, included under /api/v1/ in the "api" namespace (api:branch-list, …)."""

from rest_framework.routers import SimpleRouter

from branches.api.views import BranchViewSet, UnitViewSet

router = SimpleRouter()
router.register("branches", BranchViewSet, basename="branch")
router.register("units", UnitViewSet, basename="unit")

urlpatterns = router.urls
