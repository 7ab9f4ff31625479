"""Site-wide views: health check, the home page and the notification centre."""

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.notifications import (
    UnreadBadge,
    notification_kinds,
    notification_list,
    notification_preferences,
    notification_preferences_save,
    notifications_mark_read,
)
from core.notifications.filters import NotificationFilter
from core.notifications.forms import NotificationPreferencesForm
from core.pagination import InvalidCursor, keyset_paginate, page_query


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return False
    return True


def _broker_ok() -> bool:
    from config.celery_app import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return False
    return True


@never_cache
@login_not_required
def healthz(request):
    """200 with {"database": "ok", "broker": "ok"}, or 503 naming what is down. No login."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    body = {name: "ok" if ok else "down" for name, ok in checks.items()}
    return JsonResponse(body, status=200 if all(checks.values()) else 503)


def home(request):
    """Greeting with the user's roles and branches (read by the branches template tags, as core imports no app)."""
    return render(request, "core/home.html")


def page_not_found(request, exception=None):
    """404 for the whole site: the API's error shape under /api/, the ordinary page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    from django.views.defaults import page_not_found as default_page_not_found

    return default_page_not_found(request, exception)


#
# Notification centre
#
NOTIFICATION_ORDERING = ("-created_at", "-id")
NOTIFICATIONS_PER_PAGE = 30


def _with_kind_labels(rows):
    """Attach each row's kind label from the registry (no query); unknown kinds show their code."""
    kinds = notification_kinds()
    for row in rows:
        row.kind_label = kinds[row.kind].label if row.kind in kinds else row.kind
    return rows


def _next_list_url(request) -> str:
    """Where a plain form post returns: the list page it came from (with its filters), never another site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("notifications")


def notifications(request):
    """The user's notification centre, newest first, filtered by unread/kind; POST marks them all read."""
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect(_next_list_url(request))
    filterset = NotificationFilter(request.GET, queryset=notification_list(user=request.user))
    rows, cursor = filterset.qs, request.GET.get("cursor")
    try:
        page = keyset_paginate(rows, ordering=NOTIFICATION_ORDERING, cursor=cursor, per_page=NOTIFICATIONS_PER_PAGE)
    except InvalidCursor:
        page = keyset_paginate(rows, ordering=NOTIFICATION_ORDERING, cursor=None, per_page=NOTIFICATIONS_PER_PAGE)
    return render(
        request,
        "core/notification_list.html",
        {
            "filterset": filterset,
            "page": page,
            "notifications": _with_kind_labels(page.object_list),
            "next_query": page_query(request.GET, page.next_cursor) if page.has_next else None,
            "previous_query": page_query(request.GET, page.previous_cursor) if page.has_previous else None,
        },
    )


@require_POST
def notification_read(request, pk: int):
    """Mark one of the user's notifications read. htmx gets the row back plus the header link with its badge
    (swapped out of band); a plain form post returns to the list. Someone else's notification is a 404."""
    notification = get_object_or_404(notification_list(user=request.user), pk=pk)
    notifications_mark_read(user=request.user, pks=[notification.pk])
    if not request.headers.get("HX-Request"):
        return redirect(_next_list_url(request))
    notification.refresh_from_db(fields=["read_at"])
    return render(
        request,
        "core/notification_read.html",
        {
            "notification": _with_kind_labels([notification])[0],
            "notifications_unread": UnreadBadge(request.user),
            "next_url": request.POST.get("next", ""),
        },
    )


@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and follow its link (to the list when it has none, or one off this site)."""
    notification = get_object_or_404(notification_list(user=request.user), pk=pk)
    notifications_mark_read(user=request.user, pks=[notification.pk])
    if notification.url and url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return redirect(notification.url)
    return redirect("notifications")


def notification_preferences_edit(request):
    """The grid kind × channel of the user's notification preferences; one POST saves them all."""
    form = NotificationPreferencesForm(request.POST or None)
    status = HTTPStatus.OK
    if request.method == "POST":
        if form.is_valid():
            try:
                notification_preferences_save(actor=request.user, enabled=form.cleaned_data["enabled"])
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, _("Your notification settings were saved."))
                return redirect("notification_preferences")
        status = HTTPStatus.BAD_REQUEST
    return render(
        request,
        "core/notification_preferences.html",
        {"form": form, "grid": notification_preferences(user=request.user)},
        status=status,
    )
