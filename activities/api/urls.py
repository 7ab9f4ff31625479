"""Routes of the activities API, included under /api/v1/ in the "api" namespace (api:activity-list, …)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from activities.api.views import ActivityViewSet, AttendanceViewSet, ComplianceView

router = SimpleRouter()
router.register("activities", ActivityViewSet, basename="activity")
router.register("attendances", AttendanceViewSet, basename="attendance")

urlpatterns = [*router.urls, path("compliance/", ComplianceView.as_view(), name="compliance")]
