"""On PostgreSQL every change record carries the id of the transaction that wrote it (see core/api/feed.py)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION core_changerecord_set_xid() RETURNS trigger AS $$
BEGIN
    NEW.xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_changerecord_xid
    BEFORE INSERT ON core_changerecord
    FOR EACH ROW EXECUTE FUNCTION core_changerecord_set_xid();
"""

DROP = """
DROP TRIGGER IF EXISTS core_changerecord_xid ON core_changerecord;
DROP FUNCTION IF EXISTS core_changerecord_set_xid();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_apiclient_externalref_idempotencyrecord_and_more")]
    operations = [migrations.RunPython(forwards, backwards)]
