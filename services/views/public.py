"""The public pages at /help/: the request form and the tracking page (no login)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import Conflict
from services import actions, forms, intake
from services.choices import CaseStatus, IntakeChannel
from services.forms import clean_last4
from services.models import Case, Station
from services.selectors import case_for_tracking, case_timeline
from services.views._common import is_uuid

_TRACK_SESSION_KEY = "services_tracked_case"


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
        if station_id and is_uuid(station_id):
            initial["station"] = Station.objects.filter(pk=station_id, is_active=True).first()
        form = forms.IntakeForm(initial={**initial, "started": intake.started_token()})
    return render(
        request,
        "services/help_intake.html",
        {"form": form, "via": request.GET.get("via", request.POST.get("via", ""))},
    )


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
