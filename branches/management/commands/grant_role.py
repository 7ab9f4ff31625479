"""`manage.py grant_role USERNAME ROLE BRANCH_ID`: give an existing user a role at a branch."""

import uuid

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from branches.actions import role_grant
from branches.choices import Role
from branches.models import Branch, RoleAssignment


class Command(BaseCommand):
    help = _("Give an existing user a role at a branch (the branch's API id); the role covers its subtree.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help=_("One of: %(roles)s") % {"roles": ", ".join(Role.values)})
        parser.add_argument("branch_id", help=_("The branch's id (UUID), as in the API."))

    def handle(self, *args, username, role, branch_id, **options):
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist:
            raise CommandError(_("No user with username %(username)r.") % {"username": username}) from None
        if role not in Role.values:
            raise CommandError(
                _("Unknown role %(role)r; choose one of: %(roles)s.") % {"role": role, "roles": ", ".join(Role.values)}
            )
        try:
            pk = uuid.UUID(branch_id)
        except ValueError:
            raise CommandError(_("%(id)r is not a branch id (a UUID).") % {"id": branch_id}) from None
        try:
            branch = Branch.objects.get(pk=pk)
        except Branch.DoesNotExist:
            raise CommandError(_("No organisation with id %(id)s.") % {"id": pk}) from None

        had = RoleAssignment.objects.filter(user=user, role=role, branch=branch).exists()
        try:
            role_grant(actor=None, user=user, role=role, branch=branch)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        message = (
            _("%(user)s already holds %(role)s at %(branch)s.")
            if had
            else _("%(user)s is now %(role)s at %(branch)s.")
        )
        self.stdout.write(message % {"user": user.get_username(), "role": role, "branch": branch.name})
