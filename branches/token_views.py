"""Pages for officers and admins: issue, list and revoke API tokens of sync clients in their subtree.

Kept apart from views.py (the organisation pages); the form lives here because only these pages use it.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView
from django.views.generic.base import View

from branches.choices import Role
from branches.models import Branch
from branches.permissions import branch_scope, has_perm_anywhere
from branches.tokens import TOKEN_ROLES, token_issue, token_list, token_revoke


class TokenIssueForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Client name"), max_length=100)
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    branch = forms.ModelChoiceField(label=gettext_lazy("Organisation"), queryset=Branch.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in TOKEN_ROLES]
        self.fields["branch"].queryset = branch_scope(user, "tokens.change").order_by("path")


class TokenAccessMixin:
    def dispatch(self, request, *args, **kwargs):
        if not has_perm_anywhere(request.user, "tokens.view"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class TokenListView(TokenAccessMixin, FormView):
    """The clients in the user's subtree (last use, state) and the form that issues a new token."""

    template_name = "branches/token_list.html"
    form_class = TokenIssueForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "clients": token_list(actor=self.request.user)[:500]}

    def form_valid(self, form):
        try:
            client, key = token_issue(actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        # Shown once, on this response only: the key is never stored and never put in a URL.
        return self.render_to_response(
            self.get_context_data(form=self.form_class(user=self.request.user), issued=client, key=key)
        )


class TokenRevokeView(TokenAccessMixin, View):
    def post(self, request, pk):
        client = get_object_or_404(token_list(actor=request.user), pk=pk)
        token_revoke(actor=request.user, client=client)
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": client.name})
        return redirect("branches:token_list")
