"""Report downloads and the annual summary, mounted at /reports/."""

from django.urls import path

from config.dashboard import views_reports as views

app_name = "reports"
urlpatterns = [
    path("dashboard.xlsx", views.dashboard_export, name="dashboard_xlsx"),
    path("dashboard/<slug:key>.xlsx", views.dashboard_export, name="dashboard_table_xlsx"),
    path("annual/", views.annual_summary_page, name="annual"),
    path("annual.xlsx", views.annual_summary_export, name="annual_xlsx"),
]
