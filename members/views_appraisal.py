"""Pages of the annual member appraisal (民主评议党员), mounted at /appraisal/.

Secretary side (members.change scope, 404 outside it): the rounds list, opening a round, the round sheet
(self-assessment submitted, peer-rating counts per grade, final grade per row by htmx) and the state
changes. Member side (phone-first): my rounds, my self-assessment and final grade, the peer-rating sheet.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from branches.permissions import branch_scope, has_perm_anywhere
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from members.actions import appraisal as appraisal_actions
from members.forms_appraisal import AppraisalRoundForm, GradeForm, RatingSheetForm, SelfAssessmentForm
from members.models import AppraisalRound, AppraisalSubject
from members.models.appraisal import AppraisalStatus
from members.selectors_appraisal import (
    appraisal_grade_summary,
    appraisal_rater_count,
    appraisal_round_get,
    appraisal_round_list,
    appraisal_subject_rows,
    grade_summary_of,
    my_appraisal_get,
    my_appraisal_list,
    rating_distribution,
    rating_sheet,
)

PER_PAGE = 50
ROUND_ORDERING = ("-year", "id")


def _round_or_404(request, pk) -> AppraisalRound:
    try:
        return appraisal_round_get(actor=request.user, pk=pk)
    except AppraisalRound.DoesNotExist:
        raise Http404 from None


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _prepare_row(subject: AppraisalSubject, form: GradeForm | None = None) -> AppraisalSubject:
    subject.distribution = rating_distribution(subject)
    subject.grade_form = form or GradeForm(subject=subject)
    return subject


#
# Secretary pages
#
@method_decorator(never_cache, name="dispatch")
class AppraisalRoundListView(TemplateView):
    """Rounds of the user's scope, newest year first; members without that scope go to their own page."""

    template_name = "appraisal/round_list.html"

    def get(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "members.change"):
            return redirect("appraisal:my_list")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rounds = appraisal_round_list(actor=self.request.user)
        try:
            page = keyset_paginate(
                rounds, ordering=ROUND_ORDERING, cursor=self.request.GET.get("cursor"), per_page=PER_PAGE
            )
        except InvalidCursor:
            page = keyset_paginate(rounds, ordering=ROUND_ORDERING, cursor=None, per_page=PER_PAGE)
        context.update(
            {
                "page": page,
                "next_query": page_query(self.request.GET, page.next_cursor) if page.has_next else None,
                "previous_query": page_query(self.request.GET, page.previous_cursor) if page.has_previous else None,
            }
        )
        return context


class AppraisalRoundCreateView(FormView):
    """Prepare a round; "Open now" also opens it (both or neither: a failed opening leaves no draft)."""

    template_name = "appraisal/round_form.html"
    form_class = AppraisalRoundForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "members.change"):
            raise PermissionDenied(_("You may not run member appraisals."))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        branches = (
            branch_scope(self.request.user, "members.change").order_by("path").only("id", "name", "path", "depth")
        )
        return {**super().get_form_kwargs(), "branches": branches}

    def get_initial(self):
        today = timezone.localdate()
        return {
            "self_assessment_due": today + datetime.timedelta(days=14),
            "rating_due": today + datetime.timedelta(days=21),
            "excellent_cap_percent": appraisal_actions.appraisal_rules()["excellent_cap_percent"],
        }

    def form_valid(self, form):
        open_now = "open" in self.request.POST
        try:
            with transaction.atomic():
                appraisal_round = appraisal_actions.appraisal_round_create(
                    actor=self.request.user, **form.cleaned_data
                )
                if open_now:
                    appraisal_round = appraisal_actions.appraisal_round_open(
                        actor=self.request.user, appraisal_round=appraisal_round
                    )
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        if open_now:
            messages.success(self.request, _("The appraisal round is open; the members have been told."))
        else:
            messages.success(self.request, _("The appraisal round is saved as a draft."))
        return redirect("appraisal:round_detail", pk=appraisal_round.pk)


@method_decorator(never_cache, name="dispatch")
class AppraisalRoundDetailView(TemplateView):
    """The round sheet: one row per member appraised; a constant number of queries for any size."""

    template_name = "appraisal/round_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        appraisal_round = _round_or_404(self.request, kwargs["pk"])
        rows = [_prepare_row(s) for s in appraisal_subject_rows(appraisal_round=appraisal_round)]
        context.update(
            {
                "round": appraisal_round,
                "rows": rows,
                "summary": grade_summary_of(appraisal_round=appraisal_round, subjects=rows),
                "submitted": sum(1 for r in rows if r.submitted_at),
                "rater_count": appraisal_rater_count(appraisal_round=appraisal_round) if rows else 0,
                "can_grade": appraisal_round.status == AppraisalStatus.RATING_CLOSED,
                "statuses": AppraisalStatus,
            }
        )
        return context


class AppraisalRoundActionView(View):
    """POST open / end-rating / close on a round."""

    def post(self, request, pk, action):
        functions = {
            "open": (
                appraisal_actions.appraisal_round_open,
                _("The appraisal round is open; the members have been told."),
            ),
            "end-rating": (
                appraisal_actions.appraisal_rating_close,
                _("Peer rating has ended; set the final grades."),
            ),
            "close": (
                appraisal_actions.appraisal_round_close,
                _("The appraisal round is closed and its results recorded."),
            ),
        }
        if action not in functions:
            raise Http404
        appraisal_round = _round_or_404(request, pk)
        function, success = functions[action]
        try:
            function(actor=request.user, appraisal_round=appraisal_round)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Conflict as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, success)
        return redirect("appraisal:round_detail", pk=appraisal_round.pk)


class AppraisalGradeView(View):
    """POST a member's final grade; htmx gets the row back (plus the summary out of band), others a redirect."""

    def post(self, request, pk, subject_pk):
        appraisal_round = _round_or_404(request, pk)
        subject = get_object_or_404(AppraisalSubject.objects.filter(round=appraisal_round), pk=subject_pk)
        form = GradeForm(request.POST, subject=subject)
        error = None
        if form.is_valid():
            try:
                appraisal_actions.appraisal_grade(
                    actor=request.user,
                    appraisal_round=appraisal_round,
                    member=subject.member,
                    grade=form.cleaned_data["grade"],
                    reason=form.cleaned_data["reason"],
                )
            except (ValidationError, Conflict) as exc:
                add_action_error(form, exc)
                error = exc
        summary = appraisal_grade_summary(appraisal_round=appraisal_round)
        if _is_htmx(request):
            row = appraisal_subject_rows(appraisal_round=appraisal_round).get(pk=subject.pk)
            if form.is_valid() and error is None:
                form = None  # show the saved values
            return render(
                request,
                "appraisal/includes/grade_response.html",
                {"round": appraisal_round, "row": _prepare_row(row, form), "summary": summary, "can_grade": True},
            )
        if not form.is_valid():
            messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        else:
            messages.success(request, _("Grade of %(name)s saved.") % {"name": subject.member.name})
            if summary.excellent_over_cap:
                messages.warning(request, _("More members are graded excellent than the round's cap allows."))
        return redirect("appraisal:round_detail", pk=appraisal_round.pk)


#
# Member pages
#
def _my_subject_or_404(request, round_pk) -> AppraisalSubject:
    try:
        return my_appraisal_get(user=request.user, round_pk=round_pk)
    except AppraisalSubject.DoesNotExist:
        raise Http404 from None


@method_decorator(never_cache, name="dispatch")
class MyAppraisalListView(TemplateView):
    template_name = "appraisal/my_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["subjects"] = list(my_appraisal_list(user=self.request.user)[:PER_PAGE])
        return context


@method_decorator(never_cache, name="dispatch")
class MyAppraisalView(FormView):
    """My place in one round: self-assessment (editable until its deadline), rating sheet link, final grade."""

    template_name = "appraisal/my_round.html"
    form_class = SelfAssessmentForm

    def dispatch(self, request, *args, **kwargs):
        self.subject = _my_subject_or_404(request, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"self_assessment": self.subject.self_assessment}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"subject": self.subject, "round": self.subject.round})
        return context

    def form_valid(self, form):
        try:
            appraisal_actions.appraisal_self_assess(
                actor=self.request.user,
                appraisal_round=self.subject.round,
                text=form.cleaned_data["self_assessment"],
            )
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Your self-assessment is saved."))
        return redirect("appraisal:my_round", pk=self.subject.round_id)


@method_decorator(never_cache, name="dispatch")
class MyRatingSheetView(FormView):
    """Rate every other member in one POST (one row each, four big choices); ratings are anonymous."""

    template_name = "appraisal/rating_sheet.html"
    form_class = RatingSheetForm

    def dispatch(self, request, *args, **kwargs):
        self.subject = _my_subject_or_404(request, kwargs["pk"])
        self.sheet = rating_sheet(rater=self.subject)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "sheet": self.sheet}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            {
                "subject": self.subject,
                "round": self.subject.round,
                "rated": sum(1 for _peer, grade in self.sheet if grade),
            }
        )
        return context

    def form_valid(self, form):
        try:
            saved = appraisal_actions.appraisal_rate(
                actor=self.request.user, appraisal_round=self.subject.round, ratings=form.ratings()
            )
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Your ratings are saved (%(count)d members).") % {"count": saved})
        return redirect("appraisal:my_round", pk=self.subject.round_id)
