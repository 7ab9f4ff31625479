"""Re-encrypt every member's sensitive columns under the newest key, and recompute the keyed hashes.

Key rotation: put the new Fernet key first in MEMBERS_FIELD_KEYS (keep the old ones after it),
deploy, run this command, then drop the old keys. Running it again is harmless. A changed
MEMBERS_HASH_KEY is applied the same way, since the hash is recomputed from the decrypted number.
Soft-deleted records are included. Versions do not move: the records' content is unchanged.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from members import crypto
from members.models import Member


class Command(BaseCommand):
    help = "Re-encrypt member ID and phone numbers with the newest key in MEMBERS_FIELD_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size: int, **options):
        done = 0
        last_pk = None
        columns = ["citizen_id_cipher", "citizen_id_hash", "phone_cipher"]
        while True:
            with transaction.atomic():
                rows = Member.all_objects.select_for_update().order_by("pk").only("pk", *columns)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows[:batch_size])
                if not batch:
                    break
                for member in batch:
                    number = crypto.decrypt(member.citizen_id_cipher)
                    member.citizen_id_cipher = crypto.reencrypt(member.citizen_id_cipher)
                    member.citizen_id_hash = crypto.lookup_hash(number)
                    member.phone_cipher = crypto.reencrypt(member.phone_cipher)
                # bulk_update, not save(): the content is unchanged, so no new version or change record.
                Member.all_objects.bulk_update(batch, columns)
            done += len(batch)
            last_pk = batch[-1].pk
        self.stdout.write(f"Re-encrypted {done} member records.")
