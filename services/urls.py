from django.urls import path

from services import views

app_name = "services"

urlpatterns = [
    path("", views.case_list_view, name="case_list"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<uuid:pk>/", views.case_detail, name="case_detail"),
    path("cases/<uuid:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<uuid:pk>/files/<uuid:event_pk>/", views.case_attachment, name="case_attachment"),
    path("cases/<uuid:pk>/<slug:action>/", views.case_action, name="case_action"),
    path("workers/<uuid:pk>/", views.worker_detail, name="worker_detail"),
    path("stations/", views.station_list_view, name="station_list"),
    path("stations/new/", views.station_create, name="station_create"),
    path("stations/<uuid:pk>/", views.station_detail, name="station_detail"),
    path("stations/<uuid:pk>/edit/", views.station_edit, name="station_edit"),
    path("stations/<uuid:pk>/visits/", views.station_visit, name="station_visit"),
    path("stations/<uuid:pk>/wishes/", views.wish_post, name="wish_post"),
    path("stations/<uuid:pk>/wishes/<uuid:wish_pk>/claim/", views.wish_claim, name="wish_claim"),
    path("stations/<uuid:pk>/wishes/<uuid:wish_pk>/fulfil/", views.wish_fulfil, name="wish_fulfil"),
    path("aid/", views.aid_list_view, name="aid_list"),
    path("aid/new/", views.aid_create, name="aid_create"),
    path("aid/<uuid:pk>/decide/", views.aid_decide, name="aid_decide"),
    path("reports/", views.reports, name="reports"),
]
