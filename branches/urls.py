from django.urls import path

from branches import token_views, views

app_name = "branches"

urlpatterns = [
    path("", views.BranchTreeView.as_view(), name="branch_tree"),
    path("<uuid:pk>/", views.BranchDetailView.as_view(), name="branch_detail"),
    path("<uuid:pk>/new/", views.BranchCreateView.as_view(), name="branch_create"),
    path("<uuid:pk>/edit/", views.BranchUpdateView.as_view(), name="branch_update"),
    path("<uuid:pk>/move/", views.BranchMoveView.as_view(), name="branch_move"),
    path("<uuid:pk>/dissolve/", views.BranchDissolveView.as_view(), name="branch_dissolve"),
    path("tokens/", token_views.TokenListView.as_view(), name="token_list"),
    path("tokens/<int:pk>/revoke/", token_views.TokenRevokeView.as_view(), name="token_revoke"),
]
