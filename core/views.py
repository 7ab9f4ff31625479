"""Site-wide views: health check and the home page."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache


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
        from django.utils.translation import gettext as _

        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    from django.views.defaults import page_not_found as default_page_not_found

    return default_page_not_found(request, exception)


def notifications(request):
    """The user's notifications, newest first; POST marks them all read."""
    from django.core.paginator import Paginator
    from django.shortcuts import redirect

    from core.notifications import notification_list, notifications_mark_read

    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("notifications")
    page = Paginator(notification_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "core/notification_list.html", {"page_obj": page, "notifications": page.object_list})
