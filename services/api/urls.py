"""Routes of the services API, included under /api/v1/ in the "api" namespace (api:case-list, …)."""

from rest_framework.routers import SimpleRouter

from services.api.views import CaseViewSet, StationViewSet, WorkerViewSet

router = SimpleRouter()
router.register("workers", WorkerViewSet, basename="worker")
router.register("cases", CaseViewSet, basename="case")
router.register("stations", StationViewSet, basename="station")

urlpatterns = router.urls
