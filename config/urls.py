"""URL map: pages per app, /api/v1/ for REST clients, allauth accounts, health check."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config.api_sync import change_feed
from core import views as core_views

api_v1 = [
    path("sync/changes/", change_feed, name="sync-changes"),
    path("", include("branches.api.urls")),
    path("", include("members.api.urls")),
    path("", include("activities.api.urls")),
    path("", include("services.api.urls")),
    path("", include("members.api.urls_notices")),
    path("", include("members.api.urls_votes")),
    path("", include("members.api.urls_appraisal")),
    path("", include("core.api.urls_notifications")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("notifications/", include("core.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("branches/", include("branches.urls")),
    path("members/", include("members.urls")),
    path("activities/", include("activities.urls")),
    path("services/", include("services.urls")),
    path("help/", include("services.urls_public")),
    path("dashboard/", include("config.dashboard.urls")),
    path("reports/", include("config.dashboard.urls_reports")),
    path("notices/", include("members.urls_notices")),
    path("public/notices/", include("members.urls_public_notices")),
    path("votes/", include("members.urls_votes")),
    path("appraisal/", include("members.urls_appraisal")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "core.views.page_not_found"
