from django.conf import settings


def site(request):
    """The site title for every page."""
    return {"SITE_TITLE": settings.SITE_TITLE}
