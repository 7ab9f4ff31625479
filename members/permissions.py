"""Who may do what with member records. Scope itself is decided by branches.permissions.

Full citizen ID and phone numbers are shown to the roles that keep the records: those holding
"members.change" at the member's formal branch, i.e. admin, officer and secretary in their subtree
(see branches.permissions.ROLE_PERMISSIONS), and to the member themself. Organisers, who read members
to run activities, see masked values only.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from branches.permissions import in_scope


def require_member_scope(actor, perm: str, branch) -> None:
    """Refuse an actor without `perm` at `branch`; outside the view scope it is a 404, as for reads.

    `actor=None` is the system (management commands, tasks) and may do anything.
    """
    if actor is None:
        return
    if in_scope(actor, perm, branch):
        return
    if not in_scope(actor, "members.view", branch):
        raise Http404
    raise PermissionDenied(_("You may not change members of this organisation."))


def may_view_sensitive(user, member) -> bool:
    """Whether `user` may see `member`'s full citizen ID and phone number (every such view is audited)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if member.user_id is not None and member.user_id == user.pk:
        return True
    return in_scope(user, "members.change", member.branch)
