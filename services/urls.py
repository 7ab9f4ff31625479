from django.urls import path

from services import views

app_name = "services"

urlpatterns = [
    path("", views.case_list_view, name="case_list"),
    path("cases/<uuid:pk>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:pk>/files/<uuid:event_pk>/", views.case_attachment, name="case_attachment"),
    path("cases/<uuid:pk>/<slug:action>/", views.case_action, name="case_action"),
    path("workers/<uuid:pk>/", views.worker_detail, name="worker_detail"),
    path("stations/", views.station_list_view, name="station_list"),
    path("stations/<uuid:pk>/", views.station_detail, name="station_detail"),
    path("reports/", views.reports, name="reports"),
]
