"""Pages of the services app: the public intake and tracking pages, the caseworker inbox and case pages,
workers, stations and reports. Reads through selectors (404 outside the scope), writes through actions."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.permissions import has_perm_anywhere, in_scope
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from services import actions, forms, intake
from services.choices import CaseStatus, IntakeChannel
from services.forms import clean_last4
from services.models import Case, Station
from services.selectors import (
    aid_totals,
    case_for_tracking,
    case_inbox,
    case_list,
    case_report,
    case_timeline,
    station_counts,
    station_list,
    worker_list,
)

_TRACK_SESSION_KEY = "services_tracked_case"
INBOX_TABS = [
    ("mine", _("Mine")),
    ("unassigned", _("Unassigned")),
    ("due_soon", _("Due soon")),
    ("breached", _("Breached")),
    ("review", _("Spam review")),
]


def _require_view(request):
    if not has_perm_anywhere(request.user, "services.view"):
        raise PermissionDenied


#
# Public pages
#
@login_not_required
def help_intake(request):
    """The request form for workers; no login. Spam signals flag a request, they never drop it."""
    station_id = request.GET.get("station")
    if request.method == "POST":
        form = forms.IntakeForm(request.POST)
        if form.is_valid():
            ip = intake.client_ip(request)
            ip_count = intake.intake_ip_count(ip)
            if ip_count > settings.SERVICES_INTAKE_HARD_LIMIT:
                form.add_error(
                    None,
                    _("Too many requests were sent from this connection. Please call the hotline %(hotline)s.")
                    % {"hotline": settings.SERVICES_HOTLINE},
                )
            else:
                data = form.cleaned_data
                reasons = intake.spam_signals(
                    ip_count=ip_count, phone=data["phone"], honeypot=data["website"], started=data["started"]
                )
                channel = IntakeChannel.QR_CODE if request.POST.get("via") == "qr" else IntakeChannel.ONLINE_FORM
                try:
                    case = actions.intake_submit(
                        case_type=data["case_type"],
                        description=data["description"],
                        phone=data["phone"],
                        name=data["name"],
                        station=data["station"],
                        channel=channel,
                        spam_reasons=reasons,
                    )
                except ValidationError as exc:
                    form.add_error(None, exc)
                else:
                    return render(request, "services/help_done.html", {"case": case})
    else:
        initial = {}
        if station_id and _is_uuid(station_id):
            initial["station"] = Station.objects.filter(pk=station_id, is_active=True).first()
        form = forms.IntakeForm(initial={**initial, "started": intake.started_token()})
    return render(
        request,
        "services/help_intake.html",
        {"form": form, "via": request.GET.get("via", request.POST.get("via", ""))},
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@login_not_required
def help_track(request):
    """Status and public replies of a request, by tracking code and the phone's last four digits.

    A wrong code or wrong digits give the same message, and lookups are rate-limited per address.
    """
    case = None
    form = forms.TrackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not intake.track_allowed(intake.client_ip(request)):
            form.add_error(None, _("Too many attempts. Please wait a few minutes and try again."))
        else:
            code = actions.normalize_tracking_code(form.cleaned_data["code"])
            try:
                last4 = clean_last4(form.cleaned_data["last4"])
            except ValidationError:
                last4 = ""
            case = case_for_tracking(code=code, last4=last4)
            if case is None:
                form.add_error(None, _("We could not find a request with this code and these digits."))
            else:
                request.session[_TRACK_SESSION_KEY] = str(case.pk)
    elif request.method == "GET" and request.session.get(_TRACK_SESSION_KEY):
        case = Case.objects.filter(pk=request.session[_TRACK_SESSION_KEY]).select_related("case_type").first()
    return _track_page(request, form, case)


def _track_page(request, form, case, rating_form=None):
    context = {"form": form, "case": case}
    if case is not None:
        context["events"] = case_timeline(case=case, public_only=True)
        context["referrals"] = case.referrals.all()
        if case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and case.rated_at is None:
            context["rating_form"] = rating_form or forms.RatingForm()
    return render(request, "services/help_track.html", context)


@login_not_required
@require_POST
def help_rate(request):
    case_id = request.session.get(_TRACK_SESSION_KEY)
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    if case is None:
        return redirect("services_public:help_track")
    rating_form = forms.RatingForm(request.POST)
    if rating_form.is_valid():
        try:
            actions.case_rate(
                case=case, rating=rating_form.cleaned_data["rating"], comment=rating_form.cleaned_data["comment"]
            )
        except (Conflict, ValidationError) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
        else:
            messages.success(request, _("Thank you for your rating."))
        return redirect("services_public:help_track")
    return _track_page(request, forms.TrackForm(), case, rating_form)


#
# Caseworker pages
#
def case_list_view(request):
    """The inbox: tabs mine, unassigned, due soon, breached, spam review; keyset pages of 50."""
    _require_view(request)
    tab = request.GET.get("tab", "mine")
    if tab not in dict(INBOX_TABS):
        tab = "mine"
    try:
        page = keyset_paginate(
            case_inbox(actor=request.user, tab=tab),
            ordering=("created_at", "id"),
            cursor=request.GET.get("cursor"),
            per_page=50,
        )
    except InvalidCursor:
        page = keyset_paginate(
            case_inbox(actor=request.user, tab=tab), ordering=("created_at", "id"), cursor=None, per_page=50
        )
    return render(
        request,
        "services/case_list.html",
        {
            "tabs": INBOX_TABS,
            "tab": tab,
            "page": page,
            "next_query": page_query(request.GET, page.next_cursor) if page.has_next else None,
            "previous_query": page_query(request.GET, page.previous_cursor) if page.has_previous else None,
            "now": timezone.now(),
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


def case_attachment(request, pk, event_pk):
    """A case file, served only inside the scope (files are never public media)."""
    case = get_object_or_404(case_list(actor=request.user), pk=pk)
    event = get_object_or_404(case.events.exclude(file=""), pk=event_pk)
    return FileResponse(
        event.file.open("rb"), content_type=event.content_type, as_attachment=True, filename=event.file_name
    )


def worker_detail(request, pk):
    worker = get_object_or_404(worker_list(actor=request.user), pk=pk)
    revealed = None
    if request.method == "POST" and request.POST.get("reveal"):
        revealed = actions.worker_reveal(actor=request.user, worker=worker)
    cases = case_list(actor=request.user).filter(worker=worker).order_by("-created_at")
    return render(request, "services/worker_detail.html", {"worker": worker, "cases": cases, "revealed": revealed})


def station_list_view(request):
    _require_view(request)
    stations = station_list(actor=request.user).order_by("name", "id")
    return render(request, "services/station_list.html", {"stations": stations})


def station_detail(request, pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    return render(
        request,
        "services/station_detail.html",
        {"station": station, "counts": station_counts(station=station), "wishes": station.wishes.all()[:50]},
    )


def reports(request):
    _require_view(request)
    try:
        year = int(request.GET.get("year", timezone.localdate().year))
    except ValueError:
        year = timezone.localdate().year
    return render(
        request,
        "services/reports.html",
        {"report": case_report(actor=request.user, year=year), "aid_totals": aid_totals(actor=request.user)},
    )
