"""Who may do what in the services app. Scope itself is decided by branches.permissions.

Caseworkers, officers and admins hold "services.change" in their subtree; secretaries read. Hardship
aid is approved by officers and admins only ("services.approve"). Full phone and ID numbers of workers
are shown to those who may change services records at the worker's branch, and every such view is audited.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from branches.permissions import in_scope


def require_services_scope(actor, branch, perm: str = "services.change") -> None:
    """Refuse an actor without `perm` at `branch`; outside the view scope it is a 404, as for reads.

    `actor=None` is the system (the public intake, tasks) and may do anything.
    """
    if actor is None:
        return
    if in_scope(actor, perm, branch):
        return
    if not in_scope(actor, "services.view", branch):
        raise Http404
    raise PermissionDenied(_("You may not do this for this organisation."))


def may_view_sensitive(user, worker) -> bool:
    """Whether `user` may see the worker's full phone and ID number (each view is audited)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return in_scope(user, "services.change", worker.branch)


def may_approve_aid(user, branch) -> bool:
    return in_scope(user, "services.approve", branch)
