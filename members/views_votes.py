"""Pages of branch votes (/votes/): the secretary's list, new vote, detail with open / close / cancel; the
member's "my votes" and ballot (made for a phone); the result page.

Managers reach a vote through `vote_manage_list` (404 outside their "votes.view" scope; the actions check
"votes.change" again); members and managers alike reach the ballot and the result through `vote_list`
(their branch's votes as a member, plus the ones they run). Lists are keyset pages: no COUNT.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from branches.choices import BranchKind
from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from members.actions import votes as vote_actions
from members.forms_votes import BallotForm, VoteCreateForm
from members.models.votes import VoteStatus
from members.selectors import member_of_user
from members.selectors_votes import (
    my_votes,
    vote_has_voted,
    vote_list,
    vote_manage_list,
    vote_named_choices,
    vote_on_roll,
    vote_result,
)

PER_PAGE = 50
#: Newest first; the keyset needs the unique id last.
VOTE_ORDERING = ("-opens_at", "-id")


def _page(request, queryset) -> dict:
    try:
        page = keyset_paginate(queryset, ordering=VOTE_ORDERING, cursor=request.GET.get("cursor"), per_page=PER_PAGE)
    except InvalidCursor:
        page = keyset_paginate(queryset, ordering=VOTE_ORDERING, cursor=None, per_page=PER_PAGE)
    return {
        "votes": page.object_list,
        "next_url": page_query(request.GET, page.next_cursor) if page.has_next else None,
        "previous_url": page_query(request.GET, page.previous_cursor) if page.has_previous else None,
    }


#
# The secretary's side
#
@method_decorator(never_cache, name="dispatch")
class VoteListView(TemplateView):
    """Votes of the branches the user runs votes in; a plain member is sent to their own votes."""

    template_name = "votes/vote_list.html"

    def get(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "votes.view"):
            return redirect("votes:vote_mine")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(_page(self.request, vote_manage_list(actor=user)))
        context["can_add"] = has_perm_anywhere(user, "votes.change")
        context["is_member"] = member_of_user(user=user) is not None
        return context


@method_decorator(never_cache, name="dispatch")
class VoteCreateView(FormView):
    template_name = "votes/vote_form.html"
    form_class = VoteCreateForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "votes.change"):
            raise PermissionDenied(_("You may not run votes."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        branches = (
            branch_scope(self.request.user, "votes.change")
            .exclude(kind=BranchKind.GROUP)
            .exclude(is_functional=True)
            .order_by("path")
            .only("id", "name", "path", "depth", "kind", "is_temporary", "is_functional")
        )
        return {**super().get_form_kwargs(), "branches": branches}

    def form_valid(self, form):
        try:
            vote = vote_actions.vote_create(actor=self.request.user, **form.action_data())
        except (ValidationError, Conflict) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict") and "options" in exc.error_dict:
                exc = ValidationError({"candidates" if k == "options" else k: v for k, v in exc.error_dict.items()})
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Vote drafted. Check it, then open it to the members."))
        return redirect("votes:vote_detail", pk=vote.pk)


@method_decorator(never_cache, name="dispatch")
class VoteDetailView(TemplateView):
    """A vote as its secretary sees it: facts, options, turnout so far, and the buttons of its state."""

    template_name = "votes/vote_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        vote = get_object_or_404(vote_manage_list(actor=user).prefetch_related("options"), pk=kwargs["pk"])
        can_change = in_scope(user, "votes.change", vote.branch)
        context.update(
            {
                "vote": vote,
                "options": list(vote.options.all()),
                "roll_size": vote.eligibility.count() if vote.status != VoteStatus.DRAFT else None,
                "can_open": can_change and vote.status == VoteStatus.DRAFT,
                "can_cancel": can_change and vote.status == VoteStatus.DRAFT,
                "can_close": can_change and vote.status == VoteStatus.OPEN,
                "time_is_up": vote.closes_at <= timezone.now(),
            }
        )
        return context


#: Page action name → (action function, success message).
ACTIONS = {
    "open": (vote_actions.vote_open, gettext_lazy("The vote is open; the members entitled to vote were told.")),
    "close": (vote_actions.vote_close, gettext_lazy("The vote is closed and its result recorded.")),
    "cancel": (vote_actions.vote_cancel, gettext_lazy("The draft was cancelled.")),
}


class VoteActionView(View):
    """POST open, close or cancel from the detail page; refusals come back as messages."""

    def post(self, request, pk, action):
        if action not in ACTIONS:
            raise Http404
        vote = get_object_or_404(vote_manage_list(actor=request.user), pk=pk)
        function, done = ACTIONS[action]
        try:
            vote = function(actor=request.user, vote=vote)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, str(done))
            if action == "close":
                return redirect("votes:vote_result", pk=pk)
        return redirect("votes:vote_detail", pk=pk)


#
# The member's side
#
@method_decorator(never_cache, name="dispatch")
class VoteMineView(TemplateView):
    """The votes of the member's branch: open ones to vote in, closed ones with their results."""

    template_name = "votes/vote_mine.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = member_of_user(user=self.request.user)
        context["member"] = member
        context["can_manage"] = has_perm_anywhere(self.request.user, "votes.view")
        if member is not None:
            context.update(_page(self.request, my_votes(member=member)))
        context["now"] = timezone.now()
        return context


@method_decorator(never_cache, name="dispatch")
class VoteBallotView(FormView):
    """The ballot: big radio buttons or check boxes, then "your vote is recorded" (a secret choice is not shown)."""

    template_name = "votes/vote_ballot.html"
    form_class = BallotForm

    def dispatch(self, request, *args, **kwargs):
        self.vote = get_object_or_404(vote_list(actor=request.user), pk=kwargs["pk"])
        self.member = member_of_user(user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "vote": self.vote}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        vote, member = self.vote, self.member
        now = timezone.now()
        has_voted = vote_has_voted(vote=vote, member=member)
        on_roll = vote_on_roll(vote=vote, member=member)
        refusal = ""
        if not has_voted and vote.status == VoteStatus.OPEN:
            if member is None:
                refusal = _("Your account is not linked to a member record; only members vote.")
            elif not on_roll:
                refusal = vote_actions.ineligibility_reason(member, vote)
            elif now < vote.opens_at or now >= vote.closes_at:
                refusal = _("Voting is possible from %(opens)s to %(closes)s.") % {
                    "opens": vote_actions.moment_text(vote.opens_at),
                    "closes": vote_actions.moment_text(vote.closes_at),
                }
        context.update(
            {
                "vote": vote,
                "member": member,
                "has_voted": has_voted,
                "my_choices": vote_named_choices(vote=vote, member=member) if has_voted else [],
                "refusal": refusal,
                "may_vote": vote.status == VoteStatus.OPEN and not has_voted and not refusal,
            }
        )
        return context

    def form_valid(self, form):
        try:
            vote_actions.vote_cast(actor=self.request.user, vote=self.vote, choices=form.cleaned_data["choices"])
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                add_action_error(form, exc)
            else:
                form.add_error(None, exc)
            return self.form_invalid(form)
        except Conflict as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, _("Your vote is recorded."))
        return redirect("votes:vote_ballot", pk=self.vote.pk)


@method_decorator(never_cache, name="dispatch")
class VoteResultView(TemplateView):
    """The recorded result: tallies, turnout, quorum and majority; before the close, the turnout only."""

    template_name = "votes/vote_result.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        vote = get_object_or_404(vote_list(actor=self.request.user), pk=kwargs["pk"])
        context.update(
            {
                "vote": vote,
                "result": vote_result(vote=vote),
                "can_manage": in_scope(self.request.user, "votes.view", vote.branch),
            }
        )
        return context
