"""The notification centre's pages, under /notifications/ (names without a namespace, as base.html uses them)."""

from django.urls import path

from core import views

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("preferences/", views.notification_preferences_edit, name="notification_preferences"),
    path("<int:pk>/read/", views.notification_read, name="notification_read"),
    path("<int:pk>/open/", views.notification_open, name="notification_open"),
]
