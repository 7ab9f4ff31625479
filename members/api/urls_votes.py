"""API routes for votes, included under /api/v1/ in the "api" namespace (api:vote-list, api:vote-detail)."""

from rest_framework.routers import SimpleRouter

from members.api.votes import VoteViewSet

router = SimpleRouter()
router.register("votes", VoteViewSet, basename="vote")

urlpatterns = router.urls
