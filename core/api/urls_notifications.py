"""API routes of the notification centre, included under /api/v1/ in the "api" namespace
(api:notification-list, -detail, -read, -read-all, -unread-count)."""

from rest_framework.routers import SimpleRouter

from core.api.notifications import NotificationViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
