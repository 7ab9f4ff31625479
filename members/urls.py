from django.urls import path

from members import views, views_development, views_dues, views_io, views_mobility, views_transfers

app_name = "members"

urlpatterns = [
    path("", views.MemberListView.as_view(), name="member_list"),
    path("new/", views.MemberCreateView.as_view(), name="member_create"),
    path("me/", views.MemberSelfView.as_view(), name="member_self"),
    path("lookup/", views.MemberLookupView.as_view(), name="member_lookup"),
    path("import/", views_io.MemberImportView.as_view(), name="member_import"),
    path("import/template.<str:fmt>", views_io.ImportTemplateView.as_view(), name="member_import_template"),
    path("import/<uuid:pk>/", views_io.ImportJobView.as_view(), name="member_import_job"),
    path("import/<uuid:pk>/progress/", views_io.ImportJobProgressView.as_view(), name="member_import_progress"),
    path("import/<uuid:pk>/commit/", views_io.ImportJobCommitView.as_view(), name="member_import_commit"),
    path("import/<uuid:pk>/errors.csv", views_io.ImportJobErrorsView.as_view(), name="member_import_errors"),
    path("export/", views_io.MemberExportView.as_view(), name="member_export"),
    path("transfers/", views_transfers.TransferListView.as_view(), name="transfer_list"),
    path("transfers/new/", views_transfers.TransferCreateView.as_view(), name="transfer_create"),
    path("transfers/<uuid:pk>/", views_transfers.TransferDetailView.as_view(), name="transfer_detail"),
    path("transfers/<uuid:pk>/print/", views_transfers.TransferPrintView.as_view(), name="transfer_print"),
    path("transfers/<uuid:pk>/<str:action>/", views_transfers.TransferActionView.as_view(), name="transfer_action"),
    path("activity-cards/", views_mobility.ActivityCardListView.as_view(), name="activity_card_list"),
    path("activity-cards/<uuid:pk>/end/", views_mobility.ActivityCardEndView.as_view(), name="activity_card_end"),
    path("report-ins/", views_mobility.ReportInListView.as_view(), name="report_in_list"),
    path("lost-contact/", views_mobility.LostContactReportView.as_view(), name="lost_contact_report"),
    path(
        "lost-contact/<uuid:pk>/<str:action>/", views_mobility.LostContactCaseView.as_view(), name="lost_contact_case"
    ),
    path("<uuid:pk>/activity-card/new/", views_mobility.ActivityCardCreateView.as_view(), name="activity_card_create"),
    path("<uuid:pk>/report-ins/new/", views_mobility.ReportInCreateView.as_view(), name="report_in_create"),
    path("<uuid:pk>/", views.MemberDetailView.as_view(), name="member_detail"),
    path("<uuid:pk>/edit/", views.MemberUpdateView.as_view(), name="member_update"),
    path("<uuid:pk>/affiliations/new/", views.AffiliationAddView.as_view(), name="affiliation_add"),
    path("<uuid:pk>/affiliations/end/", views.AffiliationEndView.as_view(), name="affiliation_end"),
    # Development pipeline
    path("applicants/", views_development.ApplicantListView.as_view(), name="applicant_list"),
    path("applicants/new/", views_development.ApplicantCreateView.as_view(), name="applicant_create"),
    path("applicants/due/", views_development.DevelopmentDueView.as_view(), name="development_due"),
    path("applicants/<uuid:pk>/", views_development.ApplicantDetailView.as_view(), name="applicant_detail"),
    path("applicants/<uuid:pk>/step/", views_development.StepRecordView.as_view(), name="applicant_step"),
    path("applicants/<uuid:pk>/vote/", views_development.VoteRecordView.as_view(), name="applicant_vote"),
    path("applicants/<uuid:pk>/extend/", views_development.ProbationExtendView.as_view(), name="applicant_extend"),
    path("applicants/<uuid:pk>/cancel/", views_development.ProbationCancelView.as_view(), name="applicant_cancel"),
    path("applicants/<uuid:pk>/close/", views_development.ApplicantCloseView.as_view(), name="applicant_close"),
    # Dues
    path("dues/arrears/", views_dues.ArrearsListView.as_view(), name="dues_arrears"),
    path("dues/report/", views_dues.YearlyReportView.as_view(), name="dues_report"),
    path("<uuid:pk>/dues/", views_dues.DuesMemberView.as_view(), name="dues_member"),
    path("<uuid:pk>/dues/assess/", views_dues.DuesAssessView.as_view(), name="dues_assess"),
    path("<uuid:pk>/dues/income/", views_dues.MonthlyIncomeView.as_view(), name="dues_income"),
    path("<uuid:pk>/dues/pay/", views_dues.PaymentCreateView.as_view(), name="dues_pay"),
    path("<uuid:pk>/dues/<int:year>/reduce/", views_dues.ReductionRequestView.as_view(), name="dues_reduce"),
    path("<uuid:pk>/dues/<int:year>/decide/", views_dues.ReductionDecideView.as_view(), name="dues_decide"),
]
