"""Pages of notices (党务公开), mounted at /notices/: members' notices, and the managing side under manage/."""

from django.urls import path

from members import views_notices as views

app_name = "notices"

urlpatterns = [
    path("", views.MyNoticeListView.as_view(), name="notice_mine"),
    path("<uuid:pk>/", views.NoticeDetailView.as_view(), name="notice_detail"),
    path("<uuid:pk>/files/<uuid:attachment_pk>/", views.NoticeAttachmentView.as_view(), name="notice_attachment"),
    path("manage/", views.NoticeManageListView.as_view(), name="notice_list"),
    path("manage/new/", views.NoticeCreateView.as_view(), name="notice_create"),
    path("manage/dues-publication/", views.DuesPublicationView.as_view(), name="dues_publication"),
    path("manage/<uuid:pk>/", views.NoticeManageDetailView.as_view(), name="notice_manage"),
    path("manage/<uuid:pk>/edit/", views.NoticeUpdateView.as_view(), name="notice_update"),
    path("manage/<uuid:pk>/publish/", views.NoticePublishView.as_view(), name="notice_publish"),
    path("manage/<uuid:pk>/withdraw/", views.NoticeWithdrawView.as_view(), name="notice_withdraw"),
    path("manage/<uuid:pk>/attach/", views.NoticeAttachView.as_view(), name="notice_attach"),
]
