"""Remembers at sign-in whether the account has a member record, for the "My record" link in the menu.

A signal because accounts live in core, which must not import members. The flag sits in the session so
that no page pays a query for the menu; /members/me/ refreshes it, so a record linked later shows up
there at once and in the menu from the next sign-in (or the first visit of that page).
"""

from members.models import Member

#: Session key read by templates/base.html.
SELF_SESSION_KEY = "member_self_linked"


def remember_member_link(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is not None and user is not None:
        session[SELF_SESSION_KEY] = Member.objects.filter(user_id=user.pk).exists()
