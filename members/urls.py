from django.urls import path

from members import views, views_io

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
    path("<uuid:pk>/", views.MemberDetailView.as_view(), name="member_detail"),
    path("<uuid:pk>/edit/", views.MemberUpdateView.as_view(), name="member_update"),
    path("<uuid:pk>/affiliations/new/", views.AffiliationAddView.as_view(), name="affiliation_add"),
    path("<uuid:pk>/affiliations/end/", views.AffiliationEndView.as_view(), name="affiliation_end"),
]
