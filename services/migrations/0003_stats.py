# Pre-allocated in the migration chain so parallel work on services never forks it; filled by hand.
# The dashboard's stored case figures per day (services.stats.case_stats_write).
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0002_seed_case_types"),
        ("branches", "0003_api_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseDayStat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(blank=True, null=True, verbose_name="day")),
                ("opened", models.PositiveIntegerField(default=0, verbose_name="opened")),
                ("resolved", models.PositiveIntegerField(default=0, verbose_name="resolved")),
                ("rated_1", models.PositiveIntegerField(default=0)),
                ("rated_2", models.PositiveIntegerField(default=0)),
                ("rated_3", models.PositiveIntegerField(default=0)),
                ("rated_4", models.PositiveIntegerField(default=0)),
                ("rated_5", models.PositiveIntegerField(default=0)),
                ("refreshed_at", models.DateTimeField(verbose_name="refreshed at")),
                (
                    "branch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="branches.branch"
                    ),
                ),
            ],
            options={
                "verbose_name": "case figure",
                "verbose_name_plural": "case figures",
                "constraints": [models.UniqueConstraint(fields=("branch", "day"), name="casedaystat_unique")],
            },
        ),
    ]
