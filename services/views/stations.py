"""Station pages (visits, wishes) and hardship aid pages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from branches.views import add_action_error
from core.exceptions import Conflict
from core.pagination import InvalidCursor, keyset_paginate, page_query
from services import actions, forms
from services.choices import AidStatus
from services.selectors import aid_list, aid_totals, station_counts, station_list
from services.views._common import (
    change_branches,
    require_change,
    require_change_anywhere,
    require_view,
    worker_by_phone,
)


def station_list_view(request):
    require_view(request)
    stations = station_list(actor=request.user).order_by("name", "id")
    return render(
        request,
        "services/station_list.html",
        {"stations": stations, "can_add": has_perm_anywhere(request.user, "services.change")},
    )


#
# Staff forms: stations, visits, wishes
#
def station_create(request):
    require_change_anywhere(request)
    form = forms.StationForm(request.POST or None, branches=change_branches(request.user), initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            station = actions.station_create(actor=request.user, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("The station was added."))
            return redirect("services:station_detail", pk=station.pk)
    return render(request, "services/station_form.html", {"form": form, "station": None})


def station_edit(request, pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    require_change(request, station.branch)
    fields = ("name", "address", "latitude", "longitude", "hours", "amenities", "contact_name", "contact_phone")
    initial = {name: getattr(station, name) for name in fields}
    initial.update(branch=station.branch, is_active=station.is_active)
    form = forms.StationForm(request.POST or None, branches=change_branches(request.user), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.station_update(actor=request.user, station=station, **form.cleaned_data)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("The station was saved."))
            return redirect("services:station_detail", pk=station.pk)
    return render(request, "services/station_form.html", {"form": form, "station": station})


def _station_page(request, station, **forms_in_place):
    """The station page; a form that failed is passed in bound, to show its errors in place."""
    can_change = in_scope(request.user, "services.change", station.branch)
    context = {
        "station": station,
        "counts": station_counts(station=station),
        "wishes": station.wishes.all()[:50],
        "can_change": can_change,
        "visit_form": forms.VisitForm(),
        "wish_form": forms.WishForm(),
        "claim_form": forms.WishClaimForm(),
        "claim_for": None,
        "page_errors": [],
        **forms_in_place,
    }
    return render(request, "services/station_detail.html", context)


def station_detail(request, pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    return _station_page(request, station)


@require_POST
def station_visit(request, pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    form = forms.VisitForm(request.POST)
    if form.is_valid():
        actions.station_visit_record(actor=request.user, station=station, purpose=form.cleaned_data["purpose"])
        messages.success(request, _("The visit was recorded."))
        return redirect("services:station_detail", pk=station.pk)
    return _station_page(request, station, visit_form=form)


@require_POST
def wish_post(request, pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    form = forms.WishForm(request.POST)
    if form.is_valid():
        try:
            actions.wish_post(actor=request.user, station=station, **form.cleaned_data)
        except ValidationError as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("The wish was posted."))
            return redirect("services:station_detail", pk=station.pk)
    return _station_page(request, station, wish_form=form)


@require_POST
def wish_claim(request, pk, wish_pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    wish = get_object_or_404(station.wishes.select_related("station__branch"), pk=wish_pk)
    form = forms.WishClaimForm(request.POST)
    if form.is_valid():
        try:
            actions.wish_claim(actor=request.user, wish=wish, claimed_by=form.cleaned_data["claimed_by"])
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
        else:
            messages.success(request, _("The wish was claimed."))
            return redirect("services:station_detail", pk=station.pk)
    return _station_page(request, station, claim_form=form, claim_for=wish.pk)


@require_POST
def wish_fulfil(request, pk, wish_pk):
    station = get_object_or_404(station_list(actor=request.user), pk=pk)
    wish = get_object_or_404(station.wishes.select_related("station__branch"), pk=wish_pk)
    try:
        actions.wish_fulfil(actor=request.user, wish=wish)
    except Conflict as exc:
        return _station_page(request, station, page_errors=[exc.message])
    messages.success(request, _("The wish was fulfilled."))
    return redirect("services:station_detail", pk=station.pk)


#
# Hardship aid
#
def aid_list_view(request):
    """Aid records of the scope (newest first, keyset pages of 50) and approved totals per branch and year."""
    require_view(request)
    approvable = branch_scope(request.user, "services.approve")
    records = aid_list(actor=request.user).annotate(
        can_decide=ExpressionWrapper(
            Q(status=AidStatus.PENDING, branch__in=approvable) & ~Q(created_by=request.user),
            output_field=BooleanField(),
        )
    )
    ordering = ("-created_at", "-id")
    try:
        page = keyset_paginate(records, ordering=ordering, cursor=request.GET.get("cursor"), per_page=50)
    except InvalidCursor:
        page = keyset_paginate(records, ordering=ordering, cursor=None, per_page=50)
    return render(
        request,
        "services/aid_list.html",
        {
            "page": page,
            "totals": aid_totals(actor=request.user),
            "can_add": has_perm_anywhere(request.user, "services.change"),
            "next_query": page_query(request.GET, page.next_cursor) if page.has_next else None,
            "previous_query": page_query(request.GET, page.previous_cursor) if page.has_previous else None,
        },
    )


def aid_create(request):
    require_change_anywhere(request)
    form = forms.AidForm(request.POST or None, branches=change_branches(request.user))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        phone = data.pop("phone")
        worker = worker_by_phone(request.user, phone)
        if worker is None:
            form.add_error("phone", _("No worker with this phone number is served in your organisations."))
        else:
            try:
                actions.aid_create(actor=request.user, worker=worker, **data)
            except (ValidationError, Conflict) as exc:
                add_action_error(form, exc)
            else:
                messages.success(request, _("The aid was recorded; it counts once an officer approves it."))
                return redirect("services:aid_list")
    return render(request, "services/aid_form.html", {"form": form})


@require_POST
def aid_decide(request, pk):
    aid = get_object_or_404(aid_list(actor=request.user), pk=pk)
    form = forms.AidDecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject."))
        return redirect("services:aid_list")
    try:
        actions.aid_decide(actor=request.user, aid=aid, approve=form.cleaned_data["approve"])
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The decision was recorded."))
    return redirect("services:aid_list")
