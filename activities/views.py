"""Activity pages: list, month, create/edit with scheduling warnings, detail, the live attendance page with
its rotating QR code, and the member's side (my activities, QR check-in, leave).

Every activity is fetched through a selector (`activity_list` for organisers, `member_activity_list`
for the member's own pages), so one outside the user's reach is a 404; the actions check change
scope again on write.
"""

import calendar
import datetime
import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from activities import actions, selectors
from activities.choices import ActivityStatus
from activities.filters import ActivityFilter
from activities.forms import (
    ActivityForm,
    AttachmentForm,
    AttendanceMarkForm,
    CancelForm,
    HeldForm,
    InviteSearchForm,
    LeaveDecisionForm,
    LeaveRequestForm,
    MakeupForm,
    MonthForm,
)
from activities.models import Activity, Attendance, LeaveRequest
from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from core.uploads import attachment_response
from members.selectors import member_list

PER_PAGE = 50
#: Absentees offered in the organiser's select boxes (larger activities use the API or the QR code).
SELECT_LIMIT = 500
#: Matches shown by the named-invitee search (narrow the search for more).
INVITE_RESULTS = 20
_CHECK_IN_SESSION_KEY = "activities_check_in_seen"
_no_store = method_decorator(never_cache, name="dispatch")


def _activity(request, pk):
    return get_object_or_404(selectors.activity_list(actor=request.user), pk=pk)


def _require_change(request, activity) -> None:
    if not in_scope(request.user, "activities.change", activity.branch):
        raise PermissionDenied(_("You may not change activities of this organisation."))


#
# List and month
#
class ActivityListView(TemplateView):
    """Activities of the user's scope, filtered, a page at a time (keyset: no count, no offset)."""

    template_name = "activities/activity_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request, user = self.request, self.request.user
        filterset = ActivityFilter(request.GET, queryset=selectors.activity_list(actor=user), request=request)
        ordering = ("-starts_at", "-id")
        page = None
        if filterset.is_valid():
            try:
                page = keyset_paginate(
                    filterset.qs, ordering=ordering, cursor=request.GET.get("cursor"), per_page=PER_PAGE
                )
            except InvalidCursor:
                page = keyset_paginate(filterset.qs, ordering=ordering, cursor=None, per_page=PER_PAGE)
        rows = [(a, selectors.activity_quorum(activity=a)) for a in (page.object_list if page else [])]
        context.update(
            {
                "filterset": filterset,
                "page": page,
                "rows": rows,
                "next_url": page_query(request.GET, page.next_cursor) if page and page.has_next else None,
                "previous_url": page_query(request.GET, page.previous_cursor) if page and page.has_previous else None,
                "can_add": has_perm_anywhere(user, "activities.change"),
            }
        )
        return context


class ActivityMonthView(TemplateView):
    """A month as a calendar grid (weeks from Monday); on a phone the days stack as a list."""

    template_name = "activities/activity_month.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        first = MonthForm(self.request.GET).month_start()
        days = selectors.activity_month(actor=self.request.user, year=first.year, month=first.month)
        weeks = [
            [(day, day.month == first.month, days.get(day, [])) for day in week]
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        ]
        previous = (first - datetime.timedelta(days=1)).replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        context.update(
            {
                "month": first,
                "weeks": weeks,
                "today": timezone.localdate(),
                "previous_month": f"{previous:%Y-%m}",
                "next_month": f"{following:%Y-%m}",
                "weekday_names": [_(calendar.day_abbr[i]) for i in range(7)],
                "has_any": bool(days),
            }
        )
        return context


#
# Create and edit
#
def _form_kwargs(user, *, creating: bool, is_series: bool = False) -> dict:
    return {
        "branches": branch_scope(user, "activities.change").order_by("path"),
        "co_host_branches": branch_scope(user, "activities.view").order_by("path"),
        "creating": creating,
        "is_series": is_series,
    }


def _form_warnings(form) -> list:
    """Scheduling warnings for whatever the form holds so far (fields that fail are simply skipped)."""
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    branch, starts_at, ends_at = data.get("branch"), data.get("starts_at"), data.get("ends_at")
    if not (branch and starts_at and ends_at and data.get("mode")):
        return []
    return selectors.schedule_warnings(
        branch=branch,
        co_hosts=list(data.get("co_hosts") or []),
        starts_at=starts_at,
        ends_at=ends_at,
        mode=data["mode"],
        activity_pk=getattr(form, "activity_pk", None),
    )


class ActivityCreateView(FormView):
    template_name = "activities/activity_form.html"
    form_class = ActivityForm

    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "activities.change"):
            raise PermissionDenied(_("You may not schedule activities."))
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
        start = start.replace(hour=9)
        initial = {"starts_at": start, "ends_at": start + datetime.timedelta(hours=1)}
        branch_id = self.request.GET.get("branch")
        if branch_id:
            initial["branch"] = branch_id
        return initial

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), **_form_kwargs(self.request.user, creating=True)}

    def form_valid(self, form):
        data = form.action_data()
        rule = form.cleaned_data.get("rrule", "").strip()
        try:
            if rule:
                start = timezone.localtime(data.pop("starts_at"))
                end = data.pop("ends_at")
                if end <= start:
                    raise ValidationError({"ends_at": _("The end must be after the start.")})
                series = actions.series_create(
                    actor=self.request.user,
                    branch=form.cleaned_data["branch"],
                    co_hosts=form.cleaned_data["co_hosts"],
                    rrule=rule,
                    starts_on=start.date(),
                    start_time=start.time().replace(tzinfo=None),
                    duration_minutes=int((end - start).total_seconds() // 60),
                    **data,
                )
                activity = selectors.series_occurrences(series=series).first()
                messages.success(self.request, _("The series was scheduled."))
                if activity is None:
                    return redirect("activities:activity_list")
            else:
                activity = actions.activity_create(
                    actor=self.request.user,
                    branch=form.cleaned_data["branch"],
                    co_hosts=form.cleaned_data["co_hosts"],
                    **data,
                )
                messages.success(self.request, _("The activity was scheduled."))
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "rrule" in exc.error_dict and "rrule" in form.fields:
                form.add_error("rrule", exc.error_dict.pop("rrule"))
                if exc.error_dict:
                    add_action_error(form, exc)
            else:
                add_action_error(form, exc)
            return self.form_invalid(form)
        return redirect("activities:activity_detail", pk=activity.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["warnings"] = _form_warnings(form) if form.is_bound else []
        context["creating"] = True
        return context


class ActivityUpdateView(FormView):
    template_name = "activities/activity_form.html"
    form_class = ActivityForm

    def dispatch(self, request, *args, **kwargs):
        self.activity = _activity(request, kwargs["pk"])
        _require_change(request, self.activity)
        if self.activity.status == ActivityStatus.CANCELLED:
            messages.error(request, _("A cancelled activity cannot be changed."))
            return redirect("activities:activity_detail", pk=self.activity.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        a = self.activity
        initial = {name: getattr(a, name) for name in ("kind", "title", "agenda", "mode", "venue", "online_link")}
        initial.update(
            branch=a.branch,
            co_hosts=list(a.co_hosts.all()),
            starts_at=timezone.localtime(a.starts_at),
            ends_at=timezone.localtime(a.ends_at),
            capacity=a.capacity,
            credited_hours=a.credited_hours,
            reminder_offsets=a.reminder_offsets,
        )
        return initial

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.activity_pk = self.activity.pk
        return form

    def get_form_kwargs(self):
        kwargs = _form_kwargs(self.request.user, creating=False, is_series=self.activity.series_id is not None)
        return {**super().get_form_kwargs(), **kwargs}

    def form_valid(self, form):
        try:
            actions.activity_update(
                actor=self.request.user,
                activity=self.activity,
                scope=form.cleaned_data.get("scope") or "this",
                co_hosts=form.cleaned_data["co_hosts"],
                **form.action_data(),
            )
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("The activity was changed."))
        return redirect("activities:activity_detail", pk=self.activity.pk)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context.update(
            activity=self.activity,
            warnings=_form_warnings(form) if form.is_bound else selectors.activity_warnings(activity=self.activity),
            creating=False,
        )
        return context


class ActivityWarningsView(View):
    """htmx: the scheduling warnings for the form as it stands (re-checked as fields change)."""

    def post(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "activities.change"):
            raise PermissionDenied
        form = ActivityForm(request.POST, **_form_kwargs(request.user, creating=True))
        pk = request.POST.get("activity")
        if pk:
            activity = get_object_or_404(selectors.activity_list(actor=request.user), pk=pk)
            form.activity_pk = activity.pk
            form.fields["branch"].disabled = True
            form.initial["branch"] = activity.branch
        return render(request, "activities/includes/warnings.html", {"warnings": _form_warnings(form)})


#
# Detail and organiser actions
#
class ActivityDetailView(TemplateView):
    """One activity: facts, invitee count, quorum, attendance, leave requests, and the organiser's forms."""

    template_name = "activities/activity_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = _activity(self.request, kwargs["pk"])
        can_change = in_scope(self.request.user, "activities.change", activity.branch)
        absentees = selectors.activity_absentees(activity=activity).order_by("name")[:SELECT_LIMIT]
        can_invite = can_change and activity.status != ActivityStatus.CANCELLED
        searching = "q" in self.request.GET
        invite_search = InviteSearchForm(self.request.GET if searching else None) if can_invite else None
        context.update(
            {
                "activity": activity,
                "co_hosts": list(activity.co_hosts.all()),
                "named_invites": list(selectors.activity_named_invites(activity=activity)),
                "can_invite": can_invite,
                "invite_search": invite_search,
                "invite_candidates": list(
                    selectors.invite_candidates(
                        actor=self.request.user, activity=activity, search=invite_search.cleaned_data["q"]
                    )[:INVITE_RESULTS]
                )
                if invite_search is not None and invite_search.is_valid()
                else None,
                "invitee_count": selectors.activity_invitee_count(activity=activity),
                "quorum": selectors.activity_quorum(activity=activity),
                "attendances": list(selectors.activity_attendances(activity=activity)),
                "leave_requests": list(selectors.activity_leave_requests(activity=activity)),
                "attachments": list(activity.attachments.all()),
                "warnings": selectors.activity_warnings(activity=activity) if activity.is_open else [],
                "can_change": can_change,
                "mark_form": AttendanceMarkForm(members=absentees) if can_change and activity.is_open else None,
                "makeup_form": MakeupForm(members=absentees)
                if can_change and activity.status != ActivityStatus.CANCELLED and activity.starts_at <= timezone.now()
                else None,
                "cancel_form": CancelForm() if can_change and activity.is_open else None,
                "held_form": HeldForm(initial={"minutes": activity.minutes})
                if can_change and activity.is_open and activity.starts_at <= timezone.now()
                else None,
                "attachment_form": AttachmentForm() if can_change else None,
                "decision_form": LeaveDecisionForm(),
            }
        )
        return context


class ActivityActionView(View):
    """Base of the small POST forms on the detail page: fetch in scope, check change scope, call one action."""

    form_class = None
    success_message = ""

    def post(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        _require_change(request, activity)
        form = self.form_class(request.POST, request.FILES, **self.form_kwargs(activity))
        if form.is_valid():
            try:
                self.act(activity, form)
            except (ValidationError, Conflict) as exc:
                messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
            else:
                messages.success(request, self.success_message)
        else:
            messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(self.next_url(activity))

    def form_kwargs(self, activity) -> dict:
        return {}

    def next_url(self, activity) -> str:
        return reverse("activities:activity_detail", kwargs={"pk": activity.pk})


class ActivityCancelView(ActivityActionView):
    form_class = CancelForm

    def act(self, activity, form):
        actions.activity_cancel(actor=self.request.user, activity=activity, reason=form.cleaned_data["reason"])
        self.success_message = _("The activity was cancelled.")


class ActivityHeldView(ActivityActionView):
    form_class = HeldForm

    def act(self, activity, form):
        actions.activity_mark_held(actor=self.request.user, activity=activity, minutes=form.cleaned_data["minutes"])
        self.success_message = _("The activity was marked as held.")


class ActivitySkipView(ActivityActionView):
    form_class = CancelForm

    def act(self, activity, form):
        actions.activity_skip(actor=self.request.user, activity=activity)
        self.success_message = _("This date was skipped.")

    def next_url(self, activity):
        return reverse("activities:activity_list")


class AttendanceMarkView(ActivityActionView):
    form_class = AttendanceMarkForm

    def form_kwargs(self, activity):
        return {"members": selectors.activity_absentees(activity=activity)}

    def act(self, activity, form):
        actions.attendance_mark(
            actor=self.request.user,
            activity=activity,
            member=form.cleaned_data["member"],
            method=form.cleaned_data["method"],
            duration_minutes=form.cleaned_data["duration_minutes"],
        )
        self.success_message = _("Attendance recorded.")

    def next_url(self, activity):
        if self.request.POST.get("next") == "live":
            return reverse("activities:activity_live", kwargs={"pk": activity.pk})
        return super().next_url(activity)


class AttendanceMakeupView(ActivityActionView):
    form_class = MakeupForm

    def form_kwargs(self, activity):
        return {"members": selectors.activity_absentees(activity=activity)}

    def act(self, activity, form):
        actions.attendance_makeup(
            actor=self.request.user,
            activity=activity,
            member=form.cleaned_data["member"],
            duration_minutes=form.cleaned_data["duration_minutes"],
            note=form.cleaned_data["note"],
        )
        self.success_message = _("Make-up credit recorded.")


class AttendanceRemoveView(View):
    def post(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        _require_change(request, activity)
        attendance = get_object_or_404(Attendance.objects.filter(activity=activity), pk=kwargs["attendance_pk"])
        actions.attendance_remove(actor=request.user, attendance=attendance)
        messages.success(request, _("The attendance was removed."))
        return redirect("activities:activity_detail", pk=activity.pk)


class LeaveDecideView(View):
    def post(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        _require_change(request, activity)
        leave = get_object_or_404(LeaveRequest.objects.filter(activity=activity), pk=kwargs["leave_pk"])
        form = LeaveDecisionForm(request.POST)
        if form.is_valid():
            try:
                actions.leave_decide(
                    actor=request.user,
                    leave=leave,
                    approve=form.cleaned_data["approve"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, _("The decision was recorded."))
            except Conflict as exc:
                messages.error(request, str(exc))
        return redirect("activities:activity_detail", pk=activity.pk)


class AttachmentAddView(ActivityActionView):
    form_class = AttachmentForm

    def act(self, activity, form):
        actions.attachment_add(actor=self.request.user, activity=activity, upload=form.cleaned_data["file"])
        self.success_message = _("The file was attached.")


@_no_store
class AttachmentDownloadView(View):
    """An attachment, for those who see the activity (its host or a co-host in their scope) and for its
    invitees; 404 for everyone else. Files are never linked by their storage URL, which would skip this."""

    def get(self, request, pk, attachment_pk):
        activity = selectors.activity_list(actor=request.user).filter(pk=pk).first()
        if activity is None:
            member = selectors.member_of_user(user=request.user)
            if member is None:
                raise Http404
            activity = get_object_or_404(selectors.member_activity_list(member=member), pk=pk)
        attachment = get_object_or_404(selectors.activity_attachments(activity=activity), pk=attachment_pk)
        return attachment_response(attachment.file, name=attachment.name, content_type=attachment.content_type)


#
# Named invitees
#
class ActivityInviteView(View):
    """Invite a member by name: one the organiser may see (members.view scope), found by the search above."""

    def post(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        _require_change(request, activity)
        try:
            member = get_object_or_404(member_list(actor=request.user), pk=request.POST.get("member"))
        except ValidationError:  # not a UUID
            raise Http404 from None
        try:
            actions.activity_invite(actor=request.user, activity=activity, member=member)
        except (ValidationError, Conflict) as exc:
            messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        else:
            messages.success(request, _("%(name)s is invited.") % {"name": member.name})
        return redirect(reverse("activities:activity_detail", kwargs={"pk": activity.pk}) + "#invitees-section")


class ActivityUninviteView(View):
    """Withdraw a named invitation (of anyone invited by name, in the organiser's members scope or not)."""

    def post(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        _require_change(request, activity)
        invite = get_object_or_404(selectors.activity_named_invites(activity=activity), member_id=kwargs["member_pk"])
        actions.activity_uninvite(actor=request.user, activity=activity, member=invite.member)
        messages.success(request, _("%(name)s is no longer invited by name.") % {"name": invite.member.name})
        return redirect(reverse("activities:activity_detail", kwargs={"pk": activity.pk}) + "#invitees-section")


#
# Live attendance and the rotating QR code
#
def _check_in_url(request, activity) -> str:
    token = actions.check_in_token(activity=activity)
    return request.build_absolute_uri(reverse("activities:check_in", kwargs={"token": token}))


def qr_svg(url: str) -> str:
    """An inline SVG QR code of `url`, drawn by the project (no outside service sees the token)."""
    return segno.make(url, error="m").svg_inline(scale=6, border=2, dark="#1f2328", light="#ffffff")


@_no_store
class ActivityLiveView(TemplateView):
    """The organiser's live page: a QR code that rotates, and the attendance list as people check in."""

    template_name = "activities/activity_live.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        activity = _activity(self.request, kwargs["pk"])
        _require_change(self.request, activity)
        url = _check_in_url(self.request, activity)
        context.update(
            {
                "activity": activity,
                "check_in_url": url,
                "qr": mark_safe(qr_svg(url)),  # noqa: S308 (segno's own SVG)
                "refresh_seconds": settings.ACTIVITIES_QR_REFRESH_SECONDS,
                "attendances": list(selectors.activity_attendances(activity=activity)),
                "invitee_count": selectors.activity_invitee_count(activity=activity),
                "quorum": selectors.activity_quorum(activity=activity),
                "mark_form": AttendanceMarkForm(
                    members=selectors.activity_absentees(activity=activity).order_by("name")[:SELECT_LIMIT]
                )
                if activity.is_open
                else None,
            }
        )
        return context


@_no_store
class ActivityLiveQrView(View):
    """htmx fragment: a fresh QR code (the page asks every ACTIVITIES_QR_REFRESH_SECONDS)."""

    def get(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        _require_change(request, activity)
        url = _check_in_url(request, activity)
        return render(
            request,
            "activities/includes/live_qr.html",
            {
                "activity": activity,
                "qr": mark_safe(qr_svg(url)),  # noqa: S308
                "check_in_url": url,
                "refresh_seconds": settings.ACTIVITIES_QR_REFRESH_SECONDS,
            },
        )


@_no_store
class ActivityLiveAttendanceView(View):
    """htmx fragment: who has checked in so far (the page asks every few seconds)."""

    def get(self, request, *args, **kwargs):
        activity = _activity(request, kwargs["pk"])
        return render(
            request,
            "activities/includes/live_attendance.html",
            {
                "activity": activity,
                "attendances": list(selectors.activity_attendances(activity=activity)),
                "invitee_count": selectors.activity_invitee_count(activity=activity),
                "quorum": selectors.activity_quorum(activity=activity),
            },
        )


#
# Member side
#
@method_decorator(login_not_required, name="dispatch")
@_no_store
class CheckInView(View):
    """Where the QR code leads. Logged in: check the member in. Not yet: remember when the code was seen
    valid, send to the login page, and accept it on return (within ACTIVITIES_QR_LOGIN_GRACE)."""

    def get(self, request, token, *args, **kwargs):
        now = timezone.now()
        clock = time.time()  # the signer's clock, which dates the token
        seen = request.session.get(_CHECK_IN_SESSION_KEY) or {}
        if not request.user.is_authenticated:
            activity_id = actions.check_in_token_activity_id(token)
            if activity_id is not None:
                try:
                    activity = Activity.objects.get(pk=activity_id)
                    actions.check_in_token_verify(activity=activity, token=token)
                    request.session[_CHECK_IN_SESSION_KEY] = {"token": token, "at": clock}
                except (Activity.DoesNotExist, ValidationError):
                    pass
            login_url = reverse(settings.LOGIN_URL)
            return redirect(f"{login_url}?next={request.path}")
        extra_age = clock - seen["at"] if seen.get("token") == token else 0
        context = {"token": token}
        try:
            attendance = actions.attendance_self_check_in(
                actor=request.user, token=token, now=now, extra_age=extra_age
            )
        except actions.CheckInRefused as exc:
            context.update(error=" ".join(exc.messages), code=exc.code)
            activity_id = actions.check_in_token_activity_id(token)
            context["activity"] = (
                selectors.member_activity_list(member=member).filter(pk=activity_id).first()
                if activity_id and (member := selectors.member_of_user(user=request.user))
                else None
            )
            return render(request, "activities/check_in.html", context, status=400)
        except ValidationError as exc:
            context.update(error=" ".join(exc.messages), code="validation_error")
            return render(request, "activities/check_in.html", context, status=400)
        request.session.pop(_CHECK_IN_SESSION_KEY, None)
        context.update(attendance=attendance, activity=attendance.activity)
        return render(request, "activities/check_in.html", context)


class MyActivitiesView(TemplateView):
    """The logged-in member's activities: coming up and recent, with attendance and leave status."""

    template_name = "activities/my_activities.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        member = selectors.member_of_user(user=self.request.user)
        context["member"] = member
        if member is None:
            return context
        now = timezone.now()
        activities = selectors.member_activity_list(member=member)
        activities = activities.prefetch_related("attachments")
        upcoming = list(activities.filter(ends_at__gte=now).order_by("starts_at")[:50])
        recent = list(activities.filter(ends_at__lt=now).order_by("-starts_at")[:20])
        ids = [a.pk for a in upcoming + recent]
        attended = {a.activity_id: a for a in Attendance.objects.filter(member=member, activity_id__in=ids)}
        leaves = {lr.activity_id: lr for lr in LeaveRequest.objects.filter(member=member, activity_id__in=ids)}
        context.update(
            upcoming=[(a, attended.get(a.pk), leaves.get(a.pk)) for a in upcoming],
            recent=[(a, attended.get(a.pk), leaves.get(a.pk)) for a in recent],
        )
        return context


class LeaveRequestView(FormView):
    """A member asks to be excused from one of their activities, with a reason."""

    template_name = "activities/leave_form.html"
    form_class = LeaveRequestForm

    def dispatch(self, request, *args, **kwargs):
        member = selectors.member_of_user(user=request.user)
        if member is None:
            raise Http404
        self.activity = get_object_or_404(selectors.member_activity_list(member=member), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            actions.leave_request_create(
                actor=self.request.user, activity=self.activity, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Your request for leave was sent to the organiser."))
        return redirect("activities:my_activities")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "activity": self.activity}


#
# Compliance, study hours, calendar feeds (issue 5 parts 7–9)
#
def _year(request) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


def _scoped_branch(request, perm: str = "activities.view"):
    """The ?branch= of the user's scope (404 outside it), else the first branch of the scope, and the choices."""
    from branches.models import Branch

    choices = (
        Branch.objects.filter(pk__in=branch_scope(request.user, perm))
        .order_by("path")
        .only("pk", "name", "kind", "path", "depth")
    )
    wanted = request.GET.get("branch")
    if wanted:
        try:
            return get_object_or_404(choices, pk=wanted), choices
        except ValidationError:
            raise Http404 from None
    return choices.first(), choices


class ComplianceView(TemplateView):
    """三会一课: a month × kind grid of held activities and every required period's status, for one branch
    or (for a committee) each branch of its subtree with their sum."""

    template_name = "activities/compliance.html"

    def get_context_data(self, **kwargs):
        from activities import compliance
        from activities.choices import ActivityKind

        context = super().get_context_data(**kwargs)
        branch, choices = _scoped_branch(self.request)
        year = _year(self.request)
        context.update(branch=branch, choices=choices, year=year, today=timezone.localdate())
        if branch is None:
            return context
        grids, total = compliance.compliance_subtree(branch=branch, year=year)
        rules = compliance.active_rules()
        kinds = [k for k in ActivityKind if k.value in {r.kind for r in rules}]
        context.update(
            grids=grids,
            own=grids[0],
            kinds=kinds,
            month_rows=[(datetime.date(year, m + 1, 1), [total[m][k.value] for k in kinds]) for m in range(12)],
            subtree=len(grids) > 1,
        )
        return context


class MyStudyHoursView(TemplateView):
    """The logged-in member's study hours of a year against the target, with what counted."""

    template_name = "activities/my_study_hours.html"

    def get_context_data(self, **kwargs):
        from activities import study

        context = super().get_context_data(**kwargs)
        member = selectors.member_of_user(user=self.request.user)
        year = _year(self.request)
        context.update(member=member, year=year)
        if member is not None:
            context["hours"] = study.study_hours_for(members=[member], year=year)[0]
            context["attendances"] = study.member_attendances(member=member, year=year)
        return context


class BranchStudyHoursView(TemplateView):
    """Study hours of every member of a branch's subtree in a year; ?format=xlsx downloads the table."""

    template_name = "activities/branch_study_hours.html"

    def get(self, request, *args, **kwargs):
        from activities import study

        branch, choices = _scoped_branch(request, "members.view")
        year = _year(request)
        rows = study.branch_study_hours(branch=branch, year=year) if branch else []
        if branch is not None and request.GET.get("format") == "xlsx":
            return study.study_hours_xlsx(rows=rows, branch=branch, year=year)
        context = self.get_context_data(branch=branch, choices=choices, year=year, rows=rows)
        context["met"] = sum(1 for r in rows if r.met)
        return self.render_to_response(context)


class CalendarFeedsView(TemplateView):
    """The user's calendar feed URLs: create one for their own activities or for a branch, revoke one."""

    template_name = "activities/calendar_feeds.html"

    def get_context_data(self, **kwargs):
        from activities import feeds

        context = super().get_context_data(**kwargs)
        user = self.request.user
        _branch, choices = _scoped_branch(self.request)
        context.update(
            feeds=[
                (f, self.request.build_absolute_uri(reverse("activities:calendar_feed", args=[f.token])))
                for f in feeds.feed_list(user=user)
            ],
            member=selectors.member_of_user(user=user),
            choices=choices,
        )
        return context

    def post(self, request, *args, **kwargs):
        from activities import feeds
        from branches.models import Branch

        if request.POST.get("subject") == "member":
            member = selectors.member_of_user(user=request.user)
            if member is None:
                raise Http404
            feeds.feed_create(actor=request.user, member=member)
        else:
            try:
                branch = get_object_or_404(Branch.objects.all(), pk=request.POST.get("branch"))
            except ValidationError:
                raise Http404 from None
            feeds.feed_create(actor=request.user, branch=branch)
        messages.success(request, _("Calendar feed created. Copy its address into your calendar app."))
        return redirect("activities:calendar_feeds")


class CalendarFeedRevokeView(View):
    def post(self, request, pk):
        from activities import feeds
        from activities.models import CalendarFeedToken

        feed = get_object_or_404(CalendarFeedToken.objects.filter(owner=request.user), pk=pk)
        feeds.feed_revoke(actor=request.user, feed=feed)
        messages.success(request, _("Calendar feed revoked; its address no longer works."))
        return redirect("activities:calendar_feeds")


@method_decorator(login_not_required, name="dispatch")
class CalendarFeedView(View):
    """The iCalendar document at a feed's secret URL (calendar apps cannot log in); 404 once revoked."""

    def get(self, request, token):
        from django.http import HttpResponse

        from activities import feeds

        feed = feeds.feed_by_token(token)
        if feed is None:
            raise Http404
        body = feeds.feed_calendar(feed, host=request.get_host().split(":")[0])
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="activities.ics"'
        response["Cache-Control"] = "private, max-age=300"
        return response
