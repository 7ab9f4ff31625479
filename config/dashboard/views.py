"""The oversight dashboard: every figure of an organisation's subtree over a period, as charts and tables.

`?branch=` must lie in the user's `branches.view` scope (404 outside it; without it the top of the scope is
shown); `?start=` and `?end=` default to this year so far. The page costs a fixed number of queries whatever
the number of branches or members (see figures.py).
"""

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from branches.permissions import branch_scope, scope_paths
from config.dashboard.figures import DASHBOARD_PERM, dashboard_tables, stats_as_of
from config.dashboard.forms import DashboardForm, default_period

#: The picker offers the top of the user's scope and this many levels below it (any branch in scope can
#: still be chosen by id, e.g. from a link); more would make a select of thousands of options on a phone.
PICKER_LEVELS = 2
PICKER_LIMIT = 300


def _chosen_branch(request, scope):
    wanted = request.GET.get("branch")
    if not wanted:
        return scope.order_by("depth", "path").first()
    try:
        branch = scope.filter(pk=wanted).first()
    except ValidationError:  # not a UUID
        raise Http404 from None
    if branch is None:
        raise Http404
    return branch


def _picker(user, scope, branch) -> list:
    paths = scope_paths(user, DASHBOARD_PERM)
    top = 0 if paths is None else min(path.count("/") - 2 for path in paths)
    near_top = scope.filter(depth__lte=top + PICKER_LEVELS).order_by("path")
    choices = list(near_top.only("pk", "name", "path", "depth")[:PICKER_LIMIT])
    if branch is not None and all(choice.pk != branch.pk for choice in choices):
        choices.append(branch)
        choices.sort(key=lambda b: b.path)
    return choices


@require_GET
def dashboard(request):
    """Figures of the chosen subtree and period; a period that ends before it starts is a form error."""
    scope = branch_scope(request.user, DASHBOARD_PERM)
    branch = _chosen_branch(request, scope)
    context = {"branch": branch, "tables": [], "as_of": None}
    if branch is None:
        return render(request, "dashboard/dashboard.html", context)
    start, end = default_period()
    data = {
        "start": request.GET.get("start") or start.isoformat(),
        "end": request.GET.get("end") or end.isoformat(),
        "branch": str(branch.pk),
    }
    form = DashboardForm(data, branches=_picker(request.user, scope, branch))
    context["form"] = form
    if form.is_valid():
        tables = dashboard_tables(
            actor=request.user, branch=branch, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
        )
        context.update(
            tables=tables,
            as_of=stats_as_of(tables),
            start=form.cleaned_data["start"],
            end=form.cleaned_data["end"],
            query=urlencode({"branch": branch.pk, "start": data["start"], "end": data["end"]}),
        )
    return render(request, "dashboard/dashboard.html", context)
