# Pre-allocated in the migration chain so parallel work on activities never forks it; filled by hand.
# The dashboard's stored 三会一課 compliance figures (activities.stats.compliance_stats_write).
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activities", "0003_seed_compliance_rules"),
        ("branches", "0003_api_list_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ComplianceStat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("period_start", models.DateField(blank=True, null=True, verbose_name="period start")),
                ("met", models.PositiveIntegerField(default=0, verbose_name="organisations that met the rule")),
                ("min_count", models.PositiveSmallIntegerField(default=1, verbose_name="at least")),
                ("branch_kinds", models.JSONField(blank=True, default=list, verbose_name="organisation kinds")),
                ("since", models.DateField(blank=True, null=True, verbose_name="counted from")),
                ("until", models.DateField(blank=True, null=True, verbose_name="counted until")),
                ("refreshed_at", models.DateTimeField(verbose_name="refreshed at")),
                (
                    "branch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="branches.branch"
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="activities.compliancerule"
                    ),
                ),
            ],
            options={
                "verbose_name": "compliance figure",
                "verbose_name_plural": "compliance figures",
                "constraints": [
                    models.UniqueConstraint(fields=("branch", "rule", "period_start"), name="compliancestat_unique")
                ],
            },
        ),
    ]
