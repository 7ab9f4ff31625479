"""API routes for appraisal (being written), included under /api/v1/ in the "api" namespace."""

urlpatterns = []
