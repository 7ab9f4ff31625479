import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError, InternalError

from core.audit import audit_record
from core.models import AuditEntry, ChangeRecord

pytestmark = pytest.mark.django_db


def test_synced_save_bumps_version_and_writes_change(branch_tree):
    branch = branch_tree["station_a"]
    assert branch.version == 1
    branch.name = "Renamed"
    branch.save()
    assert branch.version == 2
    records = list(ChangeRecord.objects.filter(object_id=branch.pk).order_by("seq"))
    assert [(r.op, r.version) for r in records] == [("upsert", 1), ("upsert", 2)]
    assert records[-1].branch_id == branch.parent_id


def test_soft_delete_hides_row_and_writes_tombstone(branch_tree):
    from branches.models import Branch

    branch = branch_tree["station_b"]
    branch.soft_delete()
    assert not Branch.objects.filter(pk=branch.pk).exists()
    assert Branch.all_objects.filter(pk=branch.pk).exists()
    last = ChangeRecord.objects.filter(object_id=branch.pk).latest("seq")
    assert (last.op, last.version) == ("delete", 2)


def test_audit_entry_refuses_update_and_delete_in_python(branch_tree, user):
    entry = audit_record(actor=user, obj=branch_tree["district"], action="core.test.done", data={"x": 1})
    entry.action = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_audit_entry_refused_by_database_on_postgresql(branch_tree, user):
    audit_record(actor=user, obj=branch_tree["district"], action="core.test.done")
    with pytest.raises((InternalError, DatabaseError)), transaction.atomic():
        AuditEntry.objects.update(action="tampered")
    with pytest.raises((InternalError, DatabaseError)), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(action="core.test.done").count() == 1
