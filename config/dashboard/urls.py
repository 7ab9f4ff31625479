"""The oversight dashboard, mounted at /dashboard/."""

from django.urls import path

from config.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
