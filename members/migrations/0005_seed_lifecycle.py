"""Seed the admin-editable tables of the member lifecycle: development intervals and dues brackets."""

from django.db import migrations

from members.seeds import seed_development, seed_dues


class Migration(migrations.Migration):
    dependencies = [("members", "0004_lifecycle")]
    operations = [
        migrations.RunPython(seed_development, migrations.RunPython.noop),
        migrations.RunPython(seed_dues, migrations.RunPython.noop),
    ]
