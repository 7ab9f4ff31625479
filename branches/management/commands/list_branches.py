"""`manage.py list_branches`: the tree, one branch a line, `id<TAB>parent id or -<TAB>kind<TAB>name`."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from branches.models import Branch


class Command(BaseCommand):
    help = _("Print the organisation tree in tree order: id, parent id (or -), kind and name, tab-separated.")

    def handle(self, *args, **options):
        rows = Branch.objects.order_by("path").values_list("id", "parent_id", "kind", "name")
        for pk, parent_id, kind, name in rows.iterator(chunk_size=5000):
            self.stdout.write(f"{pk}\t{parent_id or '-'}\t{kind}\t{name}")
