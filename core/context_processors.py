from django.conf import settings


def site(request):
    """The site title for every page."""
    context = {"SITE_TITLE": settings.SITE_TITLE}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from core.notifications import UnreadBadge

        context["notifications_unread"] = UnreadBadge(user)
    return context
