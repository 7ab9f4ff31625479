"""Template filters of the services pages: status codes stored on timeline events shown as their labels."""

from django import template

from services.choices import CaseStatus, ReferralStatus

register = template.Library()


@register.filter
def case_status_label(code) -> str:
    """'in_progress' → the translated label; unknown codes are shown as they are."""
    try:
        return CaseStatus(code).label
    except ValueError:
        return code or ""


@register.filter
def referral_status_label(code) -> str:
    try:
        return ReferralStatus(code).label
    except ValueError:
        return code or ""
