"""The public pages at /help/: no login."""

from django.urls import path

from services import views

app_name = "services_public"

urlpatterns = [
    path("", views.help_intake, name="help_intake"),
    path("track/", views.help_track, name="help_track"),
    path("track/rate/", views.help_rate, name="help_rate"),
]
