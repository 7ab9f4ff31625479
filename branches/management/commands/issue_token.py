"""`manage.py issue_token NAME --role ROLE --branch BRANCH_ID`: prints a new API token once."""

import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from branches.models import Branch
from branches.tokens import TOKEN_ROLES, token_issue


class Command(BaseCommand):
    help = _("Issue an API token for a sync client: one role at one branch. The key is printed once.")

    def add_arguments(self, parser):
        parser.add_argument("name", help=_("Who uses the token, e.g. the district system's name."))
        parser.add_argument("--role", required=True, choices=[str(r) for r in TOKEN_ROLES])
        parser.add_argument("--branch", required=True, help=_("The branch's id (UUID), as in the API."))

    def handle(self, *args, name, role, branch, **options):
        try:
            branch_obj = Branch.objects.get(pk=uuid.UUID(branch))
        except (ValueError, Branch.DoesNotExist):
            raise CommandError(_("No organisation with id %(id)s.") % {"id": branch}) from None
        try:
            _client, key = token_issue(actor=None, name=name, role=role, branch=branch_obj)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(key)
