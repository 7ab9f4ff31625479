"""API routes for notices, included under /api/v1/ in the "api" namespace (api:notice-list, api:notice-detail)."""

from rest_framework.routers import SimpleRouter

from members.api.notices import NoticeViewSet

router = SimpleRouter()
router.register("notices", NoticeViewSet, basename="notice")

urlpatterns = router.urls
