"""Access control. `branch_scope(user, perm)` is the only code that decides which branches a user reaches.

A role held at a branch applies to the branch's whole subtree. The user's role grants are read once
per user object (that is, once per request) and turned into path-prefix filters, so a scope costs
one indexed query however many rows are then filtered by it.
"""

from functools import reduce
from operator import or_

from django.db.models import Q
from rest_framework.permissions import BasePermission

from branches.choices import Role

_ALL_AREAS = ("branches", "units", "members", "transfers", "dues", "activities", "services", "tokens", "roles")
_ALL_AREAS += ("notices",)  # 党务公开 notices (members/models/notices.py)
_ALL_AREAS += ("votes",)  # branch votes (members/models/votes.py)


def _full(*areas: str) -> set[str]:
    return {f"{area}.{verb}" for area in areas for verb in ("view", "change")}


#: What each role may do in its subtree. "admin" additionally reaches every branch.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(_full(*_ALL_AREAS) | {"services.approve"}),
    Role.OFFICER: frozenset(_full(*_ALL_AREAS) | {"services.approve"}),  # approves hardship aid
    Role.SECRETARY: frozenset(
        _full("members", "transfers", "dues", "activities", "units", "notices", "votes")
        | {"branches.view", "services.view"}
    ),
    Role.ORGANISER: frozenset(_full("activities") | {"branches.view", "units.view", "members.view"}),
    Role.CASEWORKER: frozenset(_full("services") | {"branches.view", "units.view"}),
    Role.MEMBER: frozenset(),
}


def _grants(user) -> list[tuple[str, str]]:
    """(role, branch path) pairs of the user, read once and kept on the user object."""
    cached = getattr(user, "_branch_grants", None)
    if cached is None:
        from branches.models import RoleAssignment

        cached = list(
            RoleAssignment.objects.filter(user_id=user.pk, branch__deleted_at__isnull=True).values_list(
                "role", "branch__path"
            )
        )
        user._branch_grants = cached
    return cached


def clear_scope_cache(user) -> None:
    """Forget cached grants (after roles change within one request or test)."""
    if hasattr(user, "_branch_grants"):
        del user._branch_grants


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    roles = {role for role, _path in _grants(user)}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    return roles


def is_admin(user) -> bool:
    return Role.ADMIN in user_roles(user)


def scope_paths(user, perm: str) -> list[str] | None:
    """Path prefixes the user reaches with `perm`; None means every branch; [] means none."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return []
    if user.is_superuser:
        return None
    paths = []
    for role, path in _grants(user):
        if perm in ROLE_PERMISSIONS.get(role, ()):
            if role == Role.ADMIN:
                return None
            paths.append(path)
    # Drop paths already covered by a shorter one, so the filter stays small.
    paths.sort(key=len)
    minimal: list[str] = []
    for path in paths:
        if not any(path.startswith(kept) for kept in minimal):
            minimal.append(path)
    return minimal


def branch_scope(user, perm: str):
    """QuerySet of the branches where `user` holds `perm` (a role's branch and its whole subtree)."""
    from branches.models import Branch

    paths = scope_paths(user, perm)
    if paths is None:
        return Branch.objects.all()
    if not paths:
        return Branch.objects.none()
    return Branch.objects.filter(reduce(or_, (Q(path__startswith=p) for p in paths)))


def in_scope(user, perm: str, branch) -> bool:
    """Whether `branch` lies in the user's scope for `perm`; no query beyond the cached grants."""
    if branch is None:
        return scope_paths(user, perm) is None
    paths = scope_paths(user, perm)
    return paths is None or any(branch.path.startswith(p) for p in paths)


def has_perm_anywhere(user, perm: str) -> bool:
    paths = scope_paths(user, perm)
    return paths is None or bool(paths)


class ScopedPermission(BasePermission):
    """DRF permission: the view's `scope_perm` prefix ("branches") must be held somewhere.

    Reads need "<area>.view", writes "<area>.change"; which rows are reachable is decided by the
    selectors (404 outside the scope), and writes are checked again by the actions.
    """

    def has_permission(self, request, view):
        area = getattr(view, "scope_area", None)
        if area is None:
            return True
        verb = "view" if request.method in ("GET", "HEAD", "OPTIONS") else "change"
        return has_perm_anywhere(request.user, f"{area}.{verb}")
