"""API tokens of sync clients (API.md): issue, list, revoke. The model is core.ApiClient.

Each client gets its own service account (no password, so it can never log in to the site) holding
exactly one RoleAssignment: the token's role at the token's branch. Token requests authenticate as
that account, so `branch_scope()` stays the only scope decision, for people and clients alike.
Revoking deactivates the account, which also empties its scope.
"""

import secrets
import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.choices import Role
from branches.models import Branch, RoleAssignment
from branches.permissions import branch_scope, in_scope
from core.audit import audit_record
from core.models import ApiClient, token_hash

#: roles a token may carry (a `member` token would have no member record to act on)
TOKEN_ROLES = [Role.ADMIN, Role.OFFICER, Role.SECRETARY, Role.ORGANISER, Role.CASEWORKER]


def _require(actor, branch: Branch) -> None:
    if actor is not None and not in_scope(actor, "tokens.change", branch):
        raise PermissionDenied(_("You may not manage API tokens of this organisation."))


@transaction.atomic
def token_issue(*, actor, name: str, role: str, branch: Branch) -> tuple[ApiClient, str]:
    """Create a client with a new token; returns it with the key, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the client a name.")})
    if role not in TOKEN_ROLES:
        raise ValidationError({"role": _("Choose one of the roles a token may carry.")})
    _require(actor, branch)
    if role == Role.ADMIN and actor is not None and not in_scope(actor, "tokens.change", None):
        raise PermissionDenied(_("Only administrators may issue administrator tokens."))
    user = get_user_model()(username=f"api-client-{uuid.uuid4().hex[:20]}", display_name=name[:100])
    user.set_unusable_password()
    user.save()
    RoleAssignment.objects.create(user=user, role=role, branch=branch)
    key = secrets.token_urlsafe(33)  # 44 characters
    client = ApiClient.objects.create(
        name=name[:100],
        key_hash=token_hash(key),
        key_prefix=key[:8],
        role=role,
        branch=branch,
        user=user,
        created_by=actor,
    )
    audit_record(
        actor=actor, obj=client, action="core.api_client.issued", data={"role": role, "branch": str(branch.pk)}
    )
    return client, key


@transaction.atomic
def token_revoke(*, actor, client: ApiClient) -> ApiClient:
    """Revoke a token at once: its next request is 401."""
    _require(actor, client.branch)
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        type(client.user).objects.filter(pk=client.user_id).update(is_active=False)
        audit_record(actor=actor, obj=client, action="core.api_client.revoked")
    return client


def token_list(*, actor):
    """Clients whose branch lies in the actor's token scope, newest first."""
    return (
        ApiClient.objects.filter(branch__in=branch_scope(actor, "tokens.view"))
        .select_related("branch", "created_by")
        .order_by("-created_at")
    )
