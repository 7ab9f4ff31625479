from django.urls import path

from activities import views

app_name = "activities"

urlpatterns = [
    path("", views.ActivityListView.as_view(), name="activity_list"),
    path("month/", views.ActivityMonthView.as_view(), name="activity_month"),
    path("new/", views.ActivityCreateView.as_view(), name="activity_create"),
    path("warnings/", views.ActivityWarningsView.as_view(), name="activity_warnings"),
    path("mine/", views.MyActivitiesView.as_view(), name="my_activities"),
    path("compliance/", views.ComplianceView.as_view(), name="compliance"),
    path("study-hours/", views.MyStudyHoursView.as_view(), name="my_study_hours"),
    path("study-hours/report/", views.BranchStudyHoursView.as_view(), name="branch_study_hours"),
    path("calendar/", views.CalendarFeedsView.as_view(), name="calendar_feeds"),
    path("calendar/<int:pk>/revoke/", views.CalendarFeedRevokeView.as_view(), name="calendar_feed_revoke"),
    path("calendar/feed/<str:token>.ics", views.CalendarFeedView.as_view(), name="calendar_feed"),
    path("check-in/<str:token>/", views.CheckInView.as_view(), name="check_in"),
    path("<uuid:pk>/", views.ActivityDetailView.as_view(), name="activity_detail"),
    path("<uuid:pk>/edit/", views.ActivityUpdateView.as_view(), name="activity_update"),
    path("<uuid:pk>/cancel/", views.ActivityCancelView.as_view(), name="activity_cancel"),
    path("<uuid:pk>/held/", views.ActivityHeldView.as_view(), name="activity_held"),
    path("<uuid:pk>/skip/", views.ActivitySkipView.as_view(), name="activity_skip"),
    path("<uuid:pk>/live/", views.ActivityLiveView.as_view(), name="activity_live"),
    path("<uuid:pk>/live/qr/", views.ActivityLiveQrView.as_view(), name="activity_live_qr"),
    path("<uuid:pk>/live/attendance/", views.ActivityLiveAttendanceView.as_view(), name="activity_live_attendance"),
    path("<uuid:pk>/attendance/", views.AttendanceMarkView.as_view(), name="attendance_mark"),
    path("<uuid:pk>/attendance/makeup/", views.AttendanceMakeupView.as_view(), name="attendance_makeup"),
    path(
        "<uuid:pk>/attendance/<uuid:attendance_pk>/remove/",
        views.AttendanceRemoveView.as_view(),
        name="attendance_remove",
    ),
    path("<uuid:pk>/leave/", views.LeaveRequestView.as_view(), name="leave_request"),
    path("<uuid:pk>/leave/<uuid:leave_pk>/decide/", views.LeaveDecideView.as_view(), name="leave_decide"),
    path("<uuid:pk>/attachments/", views.AttachmentAddView.as_view(), name="attachment_add"),
    path(
        "<uuid:pk>/attachments/<uuid:attachment_pk>/",
        views.AttachmentDownloadView.as_view(),
        name="attachment_download",
    ),
    path("<uuid:pk>/invitees/", views.ActivityInviteView.as_view(), name="activity_invite"),
    path(
        "<uuid:pk>/invitees/<uuid:member_pk>/remove/",
        views.ActivityUninviteView.as_view(),
        name="activity_uninvite",
    ),
]
