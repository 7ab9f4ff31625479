"""Report pages and downloads: the dashboard's tables as XLSX, and a branch's annual summary.

The organisation comes from `?branch=` and must lie in the user's `branches.view` scope (404 outside it;
without `?branch=` the top of the scope is used). Every download is audited on the organisation.
"""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branches.models import Branch
from branches.permissions import branch_scope
from config.dashboard import exports
from config.dashboard.annual import annual_summary
from config.dashboard.figures import DASHBOARD_PERM, dashboard_tables
from config.dashboard.forms import DashboardForm, default_period
from config.dashboard.forms_reports import AnnualSummaryForm
from core.audit import audit_record

SCOPE_PERM = DASHBOARD_PERM


def _scope_choices(user):
    return (
        Branch.objects.filter(pk__in=branch_scope(user, SCOPE_PERM))
        .order_by("depth", "path")
        .only("pk", "name", "kind", "path", "depth", "founded_on")
    )


def _branch(user, wanted) -> Branch:
    """The wanted branch of the user's scope, else the top of the scope; 404 outside it or with no scope."""
    choices = _scope_choices(user)
    if wanted:
        try:
            return get_object_or_404(choices, pk=wanted)
        except ValidationError:
            raise Http404 from None
    branch = choices.first()
    if branch is None:
        raise Http404
    return branch


#: The organisation picker offers the top of the scope and two levels below it, at most this many (on a
#: phone a select of thousands is useless); any organisation in scope can still be chosen by link.
PICKER_LEVELS, PICKER_LIMIT = 2, 300


def _picker(user, branch: Branch) -> list[Branch]:
    choices = _scope_choices(user)
    top = choices.values_list("depth", flat=True).first() or 0
    picked = list(choices.filter(depth__lte=top + PICKER_LEVELS).order_by("path")[:PICKER_LIMIT])
    if all(choice.pk != branch.pk for choice in picked):
        picked.append(branch)
        picked.sort(key=lambda b: b.path)
    return picked


def _raw_branch(request) -> str:
    """?branch= as given, so that an out-of-scope id is a 404 even when another field is wrong."""
    return request.GET.get("branch", "").strip()


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period_error(request, form, *, status: int = 400):
    return render(
        request,
        "dashboard/export_error.html",
        {"form": form, "title": _("The report cannot be made")},
        status=status,
    )


def export_record(*, actor, branch: Branch, report: str, data: dict) -> None:
    """Audit one report download: who, which report, for which organisation and period."""
    audit_record(actor=actor, obj=branch, action=f"dashboard.{report}.exported", data=data)


@require_GET
def dashboard_export(request, key: str | None = None):
    """Every dashboard table as one workbook, or (with `key`) one table alone, for the page's branch and period."""
    branch = _branch(request.user, _raw_branch(request))
    start, end = default_period()
    data = {
        "start": request.GET.get("start") or start.isoformat(),
        "end": request.GET.get("end") or end.isoformat(),
        "branch": str(branch.pk),
    }
    form = DashboardForm(data, branches=[branch])  # the dashboard's own form, so the same period rules apply
    if not form.is_valid():
        return _period_error(request, form)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    tables = dashboard_tables(actor=request.user, branch=branch, start=start, end=end)
    if key is not None:
        tables = [t for t in tables if t.key == key]
        if not tables:
            raise Http404
    content = exports.tables_xlsx(tables, title=_("Dashboard"), branch=branch, start=start, end=end)
    export_record(
        actor=request.user,
        branch=branch,
        report="tables",
        data={"start": start.isoformat(), "end": end.isoformat(), "tables": [t.key for t in tables]},
    )
    name = exports.export_filename("dashboard", branch=branch, start=start, end=end, suffix=key or "")
    return _xlsx_response(content, name)


def _annual(request):
    """(form, branch, summary or None) of the annual summary's query string."""
    branch = _branch(request.user, _raw_branch(request))
    form = AnnualSummaryForm(request.GET or None)
    if not request.GET:
        form = AnnualSummaryForm({"branch": str(branch.pk)})
    if not form.is_valid() or not form.check_year(branch):
        return form, branch, None
    return form, branch, annual_summary(actor=request.user, branch=branch, year=form.cleaned_data["year"])


@require_GET
def annual_summary_page(request):
    """A branch's annual summary: members, meetings, study, dues, services; printable and phone-friendly."""
    form, branch, summary = _annual(request)
    context = {
        "form": form,
        "branch": branch,
        "choices": _picker(request.user, branch),
        "summary": summary,
        "year": summary.year if summary else form.data.get("year", ""),
    }
    return render(request, "dashboard/annual.html", context, status=200 if summary else 400)


@require_GET
def annual_summary_export(request):
    """The annual summary as an XLSX, one sheet per section."""
    form, branch, summary = _annual(request)
    if summary is None:
        return _period_error(request, form)
    title = _("Annual summary %(year)s") % {"year": summary.year}
    content = exports.tables_xlsx(summary.tables, title=title, branch=branch, start=summary.start, end=summary.end)
    export_record(
        actor=request.user,
        branch=branch,
        report="annual",
        data={"year": summary.year, "tables": [t.key for t in summary.tables]},
    )
    return _xlsx_response(content, f"annual-summary-{summary.year}.xlsx")
