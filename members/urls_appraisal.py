"""Pages of the annual member appraisal (民主评议党员), mounted at /appraisal/."""

from django.urls import path

from members import views_appraisal as views

app_name = "appraisal"

urlpatterns = [
    path("", views.AppraisalRoundListView.as_view(), name="round_list"),
    path("new/", views.AppraisalRoundCreateView.as_view(), name="round_create"),
    path("mine/", views.MyAppraisalListView.as_view(), name="my_list"),
    path("mine/<uuid:pk>/", views.MyAppraisalView.as_view(), name="my_round"),
    path("mine/<uuid:pk>/rate/", views.MyRatingSheetView.as_view(), name="rating_sheet"),
    path("<uuid:pk>/", views.AppraisalRoundDetailView.as_view(), name="round_detail"),
    path("<uuid:pk>/members/<uuid:subject_pk>/grade/", views.AppraisalGradeView.as_view(), name="subject_grade"),
    path("<uuid:pk>/<str:action>/", views.AppraisalRoundActionView.as_view(), name="round_action"),
]
