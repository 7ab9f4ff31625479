"""Routes of the members API, included under /api/v1/ in the "api" namespace (api:member-list, …)."""

from rest_framework.routers import SimpleRouter

from members.api.views import MemberViewSet

router = SimpleRouter()
router.register("members", MemberViewSet, basename="member")

urlpatterns = router.urls
