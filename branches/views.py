"""Pages of the organisation tree: browse, detail, and the forms that call branches/actions.py.

Every branch is fetched through `branch_list(actor=...)`, so a branch outside the user's scope is a 404;
the forms pages also need change scope (403 otherwise), and the actions check it again on write.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import FormView, TemplateView

from branches import actions
from branches.choices import BranchKind, CommitteePost
from branches.forms import BRANCH_FORM_FIELDS, BranchDissolveForm, BranchForm, BranchMoveForm
from branches.models import TERM_YEARS, Branch
from branches.permissions import in_scope
from branches.selectors import (
    branch_ancestors,
    branch_children,
    branch_current_seats,
    branch_list,
    branch_search,
    branch_warnings,
    unit_list,
)
from core.exceptions import Conflict

#: Tops of the scope rendered by the server before tree.js takes over (it pages through the rest).
TREE_FIRST_LEVEL_LIMIT = 100
CHILDREN_PER_PAGE = 50
SEARCH_LIMIT = 20
#: Stands for a branch id in the detail URL handed to tree.js, which puts the real id in its place.
_PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
#: Committee posts listed secretary first, as a committee is read out.
_POST_ORDER = {post: rank for rank, post in enumerate(CommitteePost.values)}


def add_action_error(form, exc: ValidationError | Conflict) -> None:
    """Show an action's refusal in the form: on the field it names when the form has it, else on top."""
    if isinstance(exc, Conflict):
        form.add_error(None, str(exc))
        return
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    form.add_error(None, exc)


def _tree_texts() -> dict:
    """Labels tree.js needs, in the page's language (the API sends codes, never labels)."""
    return {
        "kinds": {value: str(label) for value, label in BranchKind.choices},
        "expand": _("Show sub-organisations of %(name)s"),
        "collapse": _("Hide sub-organisations of %(name)s"),
        "loading": _("Loading…"),
        "load_failed": _("Could not load the organisations."),
        "retry": _("Try again"),
        "show_more": _("Show more"),
        "no_results": _("No organisation matches."),
        # Both plural forms: tree.js picks one by count (enough for English and Chinese).
        "children_one": ngettext("%(count)s sub-organisation", "%(count)s sub-organisations", 1),
        "children_other": ngettext("%(count)s sub-organisation", "%(count)s sub-organisations", 2),
        "empty": _("No organisations in your scope."),
    }


class BranchTreeView(TemplateView):
    """The tree, lazily expanded by static/js/tree.js; the first level and search work without JS."""

    template_name = "branches/branch_tree.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        tops = list(branch_children(actor=user, parent=None)[: TREE_FIRST_LEVEL_LIMIT + 1])
        query = self.request.GET.get("q", "").strip()
        context.update(
            {
                "tops": [(b, branch_warnings(b)) for b in tops[:TREE_FIRST_LEVEL_LIMIT]],
                "tops_truncated": len(tops) > TREE_FIRST_LEVEL_LIMIT,
                "query": query,
                "search_results": list(branch_search(actor=user, text=query, limit=SEARCH_LIMIT)) if query else None,
                "tree_texts": _tree_texts(),
                "detail_url_template": reverse("branches:branch_detail", kwargs={"pk": _PLACEHOLDER_ID}),
            }
        )
        return context


class BranchDetailView(TemplateView):
    """One branch with its counts, rule warnings, committee, units, term and children."""

    template_name = "branches/branch_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        branch = get_object_or_404(branch_list(actor=user), pk=kwargs["pk"])
        children = Paginator(branch_children(actor=user, parent=branch), CHILDREN_PER_PAGE)
        context.update(
            {
                "branch": branch,
                "warnings": branch_warnings(branch),
                "ancestors": [(a, in_scope(user, "branches.view", a)) for a in branch_ancestors(branch=branch)],
                "seats": sorted(branch_current_seats(branch=branch), key=lambda seat: _POST_ORDER.get(seat.post, 99)),
                "units": branch.units.order_by("name"),
                "children_page": children.get_page(self.request.GET.get("page")),
                "term_years": branch.term_years or TERM_YEARS.get(branch.kind),
                "can_change": in_scope(user, "branches.change", branch),
            }
        )
        return context


class BranchChangeMixin:
    """Loads `self.branch` from the user's scope (404 outside) and requires change rights there (403)."""

    def dispatch(self, request, *args, **kwargs):
        self.branch = get_object_or_404(branch_list(actor=request.user), pk=kwargs["pk"])
        if not in_scope(request.user, "branches.change", self.branch):
            raise PermissionDenied(_("You may not change this organisation."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["branch"] = self.branch
        return context


class BranchCreateView(BranchChangeMixin, FormView):
    """A new organisation under the branch of the URL."""

    template_name = "branches/branch_form.html"
    form_class = BranchForm
    title = gettext_lazy("New sub-organisation")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["units_queryset"] = unit_list(actor=self.request.user)
        kwargs["initial"] = {"kind": _default_child_kind(self.branch), "basis": self.branch.basis}
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"title": self.title, "submit_label": _("Create"), "form_id": "branch-create-form"})
        return context

    def form_valid(self, form):
        try:
            child = actions.branch_create(
                actor=self.request.user, parent=self.branch, units=form.cleaned_data["units"], **form.action_data()
            )
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Organisation “%(name)s” created.") % {"name": child.name})
        return redirect("branches:branch_detail", pk=child.pk)


def _default_child_kind(parent: Branch) -> str:
    """The usual kind one level down: committee → branch, general branch → branch, branch → group."""
    if parent.kind == BranchKind.BRANCH:
        return BranchKind.GROUP
    return BranchKind.BRANCH


class BranchUpdateView(BranchChangeMixin, FormView):
    template_name = "branches/branch_form.html"
    form_class = BranchForm
    title = gettext_lazy("Edit organisation")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        self.choosable_units = unit_list(actor=self.request.user)
        kwargs["units_queryset"] = self.choosable_units
        kwargs["initial"] = {
            **{name: getattr(self.branch, name) for name in BRANCH_FORM_FIELDS},
            "units": list(self.branch.units.values_list("pk", flat=True)),
        }
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({"title": self.title, "submit_label": _("Save"), "form_id": "branch-edit-form"})
        return context

    def form_valid(self, form):
        # Units the user cannot see are not offered, so keep those the branch already covers.
        hidden = self.branch.units.exclude(pk__in=self.choosable_units.values("pk"))
        units = [*form.cleaned_data["units"], *hidden]
        try:
            branch = actions.branch_update(
                actor=self.request.user, branch=self.branch, units=units, **form.action_data()
            )
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Organisation “%(name)s” saved.") % {"name": branch.name})
        return redirect("branches:branch_detail", pk=branch.pk)


class BranchMoveView(BranchChangeMixin, FormView):
    """Moves the branch and its subtree under another branch of the user's change scope."""

    template_name = "branches/branch_move.html"
    form_class = BranchMoveForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        user = self.request.user
        targets = branch_list(actor=user, perm="branches.change")
        kwargs["parent_queryset"] = targets
        # Shown but not selectable: the branch itself, its subtree, and its current parent.
        kwargs["disabled_ids"] = {
            *targets.filter(path__startswith=self.branch.path).values_list("pk", flat=True),
            self.branch.parent_id,
        }
        kwargs["initial"] = {"parent": self.branch.parent_id}
        return kwargs

    def form_valid(self, form):
        new_parent = form.cleaned_data["parent"]
        try:
            branch = actions.branch_move(actor=self.request.user, branch=self.branch, new_parent=new_parent)
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Organisation “%(name)s” moved under “%(parent)s”.") % {"name": branch.name, "parent": new_parent.name},
        )
        return redirect("branches:branch_detail", pk=branch.pk)


class BranchDissolveView(BranchChangeMixin, FormView):
    """Confirmation page, then dissolution; refused while anything still hangs on the branch."""

    template_name = "branches/branch_dissolve.html"
    form_class = BranchDissolveForm

    def form_valid(self, form):
        user = self.request.user
        try:
            actions.branch_dissolve(actor=user, branch=self.branch, reason=form.cleaned_data["reason"])
        except (ValidationError, Conflict) as exc:
            add_action_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Organisation “%(name)s” dissolved.") % {"name": self.branch.name})
        parent = self.branch.parent
        if parent is not None and in_scope(user, "branches.view", parent):
            return redirect("branches:branch_detail", pk=parent.pk)
        return redirect("branches:branch_tree")
