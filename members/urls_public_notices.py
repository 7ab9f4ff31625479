"""Public notice pages, mounted at /public/notices/: no login (the views are @login_not_required)."""

from django.urls import path

from members import views_notices as views

app_name = "public_notices"

urlpatterns = [
    path("", views.public_notice_list_view, name="notice_list"),
    path("<uuid:pk>/", views.public_notice_detail_view, name="notice_detail"),
    path("<uuid:pk>/files/<uuid:attachment_pk>/", views.public_notice_attachment_view, name="notice_attachment"),
]
