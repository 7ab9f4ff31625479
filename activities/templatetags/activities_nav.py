"""The activities sub-navigation: every activities page is a click away, and only the pages the user can use."""

from django import template

from activities.selectors import member_of_user
from branches.permissions import has_perm_anywhere

register = template.Library()


@register.inclusion_tag("activities/includes/nav.html", takes_context=True)
def activities_nav(context, current: str = "") -> dict:
    """`{% activities_nav "list" %}`; `current` marks the page shown (aria-current)."""
    request = context["request"]
    user = request.user
    member = getattr(request, "_activities_member", None)
    if member is None:
        member = member_of_user(user=user) or False
        request._activities_member = member  # one lookup per request, however many times the tag renders
    return {
        "current": current,
        "sees_activities": has_perm_anywhere(user, "activities.view"),
        "sees_members": has_perm_anywhere(user, "members.view"),
        "is_member": bool(member),
    }
