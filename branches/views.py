"""Pages of the organisation tree."""

from django.views.generic import TemplateView


class BranchTreeView(TemplateView):
    template_name = "branches/branch_tree.html"
