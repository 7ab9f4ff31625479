# Pre-allocated in the migration chain so parallel work on members never forks it; filled by hand.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0003_api_list_indexes"),
        ("members", "0008_appraisal"),
    ]

    operations = [
        migrations.CreateModel(
            name="BranchStat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("dimension", models.CharField(max_length=30, verbose_name="dimension")),
                ("key", models.CharField(blank=True, max_length=50, verbose_name="key")),
                ("value", models.BigIntegerField(default=0, verbose_name="value")),
                ("refreshed_at", models.DateTimeField(verbose_name="refreshed at")),
                (
                    "branch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="branches.branch"
                    ),
                ),
            ],
            options={
                "verbose_name": "branch figure",
                "verbose_name_plural": "branch figures",
                "constraints": [
                    models.UniqueConstraint(fields=("branch", "dimension", "key"), name="branchstat_unique")
                ],
            },
        ),
    ]
