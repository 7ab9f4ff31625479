"""Caseworker pages: the inbox, case pages and actions, opening and editing cases, workers, reports."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from branches.permissions import has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from core.uploads import attachment_response
from services import actions, forms
from services.choices import CaseStatus, IntakeChannel, ReferralStatus
from services.filters import CaseFilter
from services.selectors import aid_totals, case_inbox, case_list, case_report, case_timeline, station_list, worker_list
from services.views._common import (
    change_branches,
    is_uuid,
    require_change,
    require_change_anywhere,
    require_view,
    worker_by_phone,
)

INBOX_TABS = [
    ("mine", gettext_lazy("Mine")),
    ("unassigned", gettext_lazy("Unassigned")),
    ("due_soon", gettext_lazy("Due soon")),
    ("breached", gettext_lazy("Breached")),
    ("review", gettext_lazy("Spam review")),
]


#
# Caseworker pages
#
def case_list_view(request):
    """The inbox: tabs mine, unassigned, due soon, breached, spam review; keyset pages of 50."""
    require_view(request)
    tab = request.GET.get("tab", "mine")
    if tab not in dict(INBOX_TABS):
        tab = "mine"
    # A query naming any CaseFilter field (the dashboard's links) lists every case in scope so filtered,
    # in place of a tab; invalid values list nothing and show the form errors.
    filterset = CaseFilter(request.GET, queryset=case_list(actor=request.user), request=request)
    if any(name in request.GET for name in filterset.filters):
        tab = ""
        cases = filterset.qs if filterset.is_valid() else case_list(actor=request.user).none()
    else:
        filterset = None
        cases = case_inbox(actor=request.user, tab=tab)
    try:
        page = keyset_paginate(cases, ordering=("created_at", "id"), cursor=request.GET.get("cursor"), per_page=50)
    except InvalidCursor:
        page = keyset_paginate(cases, ordering=("created_at", "id"), cursor=None, per_page=50)
    return render(
        request,
        "services/case_list.html",
        {
            "tabs": INBOX_TABS,
            "tab": tab,
            "filterset": filterset,
            "page": page,
            "next_query": page_query(request.GET, page.next_cursor) if page.has_next else None,
            "previous_query": page_query(request.GET, page.previous_cursor) if page.has_previous else None,
            "now": timezone.now(),
            "can_add": has_perm_anywhere(request.user, "services.change"),
        },
    )


def case_detail(request, pk):
    case = get_object_or_404(case_list(actor=request.user), pk=pk)
    can_change = in_scope(request.user, "services.change", case.branch)
    context = {
        "case": case,
        "events": case_timeline(case=case),
        "referrals": case.referrals.all(),
        "breaches": case.breaches.all(),
        "follow_ups": case.follow_ups.all(),
        "can_change": can_change,
    }
    if can_change:
        context.update(
            assign_form=forms.AssignForm(case=case),
            note_form=forms.NoteForm(),
            wait_form=forms.WaitForm(),
            resolve_form=forms.ResolveForm(),
            reopen_form=forms.ReopenForm(),
            refer_form=forms.ReferForm(),
            attach_form=forms.AttachForm(),
            referral_statuses=ReferralStatus.choices,
        )
    return render(request, "services/case_detail.html", context)


@require_POST
def case_action(request, pk, action):
    """Every button of the case page: one form, one action; a state that forbids it shows a message."""
    case = get_object_or_404(case_list(actor=request.user), pk=pk)
    user = request.user
    handlers = {
        "assign": (
            lambda: forms.AssignForm(request.POST, case=case),
            lambda d: actions.case_assign(actor=user, case=case, assignee=d["assignee"]),
        ),
        "start": (None, lambda d: actions.case_start(actor=user, case=case)),
        "wait": (
            lambda: forms.WaitForm(request.POST),
            lambda d: actions.case_wait(actor=user, case=case, on=d["on"], note=d["note"]),
        ),
        "resume": (None, lambda d: actions.case_resume(actor=user, case=case)),
        "resolve": (
            lambda: forms.ResolveForm(request.POST),
            lambda d: actions.case_resolve(actor=user, case=case, summary=d["summary"]),
        ),
        "close": (None, lambda d: actions.case_close(actor=user, case=case)),
        "reopen": (
            lambda: forms.ReopenForm(request.POST),
            lambda d: actions.case_reopen(actor=user, case=case, reason=d["reason"]),
        ),
        "note": (
            lambda: forms.NoteForm(request.POST),
            lambda d: actions.case_note_add(actor=user, case=case, body=d["body"], is_public=d["is_public"]),
        ),
        "refer": (
            lambda: forms.ReferForm(request.POST),
            lambda d: actions.referral_create(actor=user, case=case, **d),
        ),
        "attach": (
            lambda: forms.AttachForm(request.POST, request.FILES),
            lambda d: actions.case_attach(actor=user, case=case, upload=d["file"], is_public=d["is_public"]),
        ),
        "referral": (
            lambda: forms.ReferralStatusForm(request.POST),
            lambda d: _referral_set_status(user, case, d),
        ),
        "review": (
            lambda: forms.ReviewForm(request.POST),
            lambda d: actions.case_spam_review(actor=user, case=case, genuine=d["genuine"]),
        ),
    }
    if action not in handlers:
        raise Http404
    make_form, run = handlers[action]
    form = make_form() if make_form else None
    if form is not None and not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("services:case_detail", pk=case.pk)
    try:
        run(form.cleaned_data if form is not None else {})
    except Conflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Done."))
        if action == "review" and not form.cleaned_data["genuine"]:
            return redirect("services:case_list")
    return redirect("services:case_detail", pk=case.pk)


def _referral_set_status(user, case, data):
    referral = case.referrals.filter(pk=data["referral"]).first()
    if referral is None:
        raise ValidationError(_("The case has no such referral."))
    return actions.referral_set_status(actor=user, referral=referral, status=data["status"], note=data["note"])


def case_attachment(request, pk, event_pk):
    """A case file, served only inside the scope (files are never public media)."""
    case = get_object_or_404(case_list(actor=request.user), pk=pk)
    event = get_object_or_404(case.events.exclude(file=""), pk=event_pk)
    return attachment_response(event.file, name=event.file_name, content_type=event.content_type)


def worker_detail(request, pk):
    worker = get_object_or_404(worker_list(actor=request.user), pk=pk)
    revealed = None
    if request.method == "POST" and request.POST.get("reveal"):
        revealed = actions.worker_reveal(actor=request.user, worker=worker)
    cases = case_list(actor=request.user).filter(worker=worker).order_by("-created_at")
    return render(
        request,
        "services/worker_detail.html",
        {
            "worker": worker,
            "cases": cases,
            "revealed": revealed,
            "can_change": in_scope(request.user, "services.change", worker.branch),
        },
    )


def reports(request):
    """Figures of one year (?year=), aggregated in the database: a fixed number of queries."""
    require_view(request)
    try:
        year = int(request.GET.get("year", timezone.localdate().year))
    except ValueError:
        year = timezone.localdate().year
    if not 2000 <= year <= 2100:
        year = timezone.localdate().year
    report = case_report(actor=request.user, year=year)
    labels = dict(CaseStatus.choices)
    for row in report["by_status"]:
        row["label"] = labels.get(row["status"], row["status"])
    return render(
        request,
        "services/reports.html",
        {"report": report, "aid_totals": aid_totals(actor=request.user), "year": year},
    )


#
# Opening and editing cases
#
def case_create(request):
    """Open a case for a worker found by the exact phone number (POST only), created when new, or given by id
    (?worker=) from the worker's page."""
    require_change_anywhere(request)
    worker = None
    worker_id = request.POST.get("worker") or request.GET.get("worker")
    if worker_id:
        if not is_uuid(worker_id):
            raise Http404
        worker = get_object_or_404(worker_list(actor=request.user), pk=worker_id)
    form = forms.CaseCreateForm(
        request.POST or None,
        branches=change_branches(request.user),
        stations=station_list(actor=request.user).order_by("name"),
        worker=worker,
        initial={"branch": worker.branch if worker else None, "channel": IntakeChannel.PHONE},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        phone, name = data.pop("phone", ""), data.pop("name", "")
        try:
            with transaction.atomic():
                target = worker or worker_by_phone(request.user, phone)
                if target is None:
                    target = actions.worker_create(actor=request.user, branch=data["branch"], phone=phone, name=name)
                case = actions.case_open(actor=request.user, worker=target, **data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("The case was opened."))
            return redirect("services:case_detail", pk=case.pk)
    return render(request, "services/case_form.html", {"form": form, "worker": worker})


def case_edit(request, pk):
    """Change a case's type or priority; each change goes on the timeline and deadlines follow."""
    case = get_object_or_404(case_list(actor=request.user), pk=pk)
    require_change(request, case.branch)
    form = forms.CaseEditForm(request.POST or None, initial={"case_type": case.case_type, "priority": case.priority})
    if request.method == "POST" and form.is_valid():
        try:
            actions.case_update(actor=request.user, case=case, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("The case was saved."))
            return redirect("services:case_detail", pk=case.pk)
    return render(request, "services/case_edit.html", {"form": form, "case": case})
