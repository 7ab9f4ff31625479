"""Template helpers for the layout and home page: who is signed in, with which roles, at which branches."""

from django import template

from branches.choices import Role
from branches.permissions import in_scope, user_roles
from branches.selectors import role_assignment_list

register = template.Library()


@register.simple_tag
def role_labels(user) -> list[str]:
    """Translated labels of the user's roles, strongest first (the order of `Role`)."""
    roles = user_roles(user)
    return [label for value, label in Role.choices if value in roles]


@register.simple_tag
def role_assignments(user) -> list[dict]:
    """The user's roles with their branches; `viewable` tells whether the branch page may be linked."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        {
            "role": assignment.get_role_display(),
            "branch": assignment.branch,
            "viewable": in_scope(user, "branches.view", assignment.branch),
        }
        for assignment in role_assignment_list(user=user)
    ]
