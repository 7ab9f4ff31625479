"""Checks and look-ups shared by the services pages."""

import uuid

from django.core.exceptions import PermissionDenied

from branches.permissions import branch_scope, has_perm_anywhere, in_scope
from members import crypto
from services.selectors import worker_list


def require_view(request):
    if not has_perm_anywhere(request.user, "services.view"):
        raise PermissionDenied


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def change_branches(user):
    return branch_scope(user, "services.change").order_by("path")


def require_change_anywhere(request):
    if not has_perm_anywhere(request.user, "services.change"):
        raise PermissionDenied


def require_change(request, branch):
    if not in_scope(request.user, "services.change", branch):
        raise PermissionDenied


def worker_by_phone(user, phone: str):
    """The worker in the user's scope with exactly this phone number (keyed hash), if any."""
    return worker_list(actor=user).filter(phone_hash=crypto.lookup_hash(phone)).first()
