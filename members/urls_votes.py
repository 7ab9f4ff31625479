"""Pages of branch votes, mounted at /votes/ (votes:vote_list, votes:vote_ballot, …)."""

from django.urls import path

from members import views_votes

app_name = "votes"
urlpatterns = [
    path("", views_votes.VoteListView.as_view(), name="vote_list"),
    path("mine/", views_votes.VoteMineView.as_view(), name="vote_mine"),
    path("new/", views_votes.VoteCreateView.as_view(), name="vote_create"),
    path("<uuid:pk>/", views_votes.VoteDetailView.as_view(), name="vote_detail"),
    path("<uuid:pk>/ballot/", views_votes.VoteBallotView.as_view(), name="vote_ballot"),
    path("<uuid:pk>/result/", views_votes.VoteResultView.as_view(), name="vote_result"),
    path("<uuid:pk>/<str:action>/", views_votes.VoteActionView.as_view(), name="vote_action"),
]
