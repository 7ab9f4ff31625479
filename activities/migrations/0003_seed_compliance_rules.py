"""Seed the 三会一课 requirements of DOMAIN.md §4 (editable afterwards in the admin)."""

from django.db import migrations

BRANCHES = ["branch", "general_branch"]
RULES = [
    ("branch_assembly", "quarter", 1, BRANCHES),
    ("committee_meeting", "month", 1, BRANCHES),
    ("group_meeting", "month", 1, ["group"]),
    ("party_lecture", "quarter", 1, BRANCHES),
    ("theme_day", "month", 1, BRANCHES),
    ("review_meeting", "year", 1, BRANCHES),
    ("appraisal", "year", 1, BRANCHES),
]


def seed(apps, schema_editor):
    ComplianceRule = apps.get_model("activities", "ComplianceRule")
    for kind, period, min_count, branch_kinds in RULES:
        ComplianceRule.objects.get_or_create(
            kind=kind, period=period, defaults={"min_count": min_count, "branch_kinds": branch_kinds}
        )


def unseed(apps, schema_editor):
    ComplianceRule = apps.get_model("activities", "ComplianceRule")
    for kind, period, _min_count, _kinds in RULES:
        ComplianceRule.objects.filter(kind=kind, period=period).delete()


class Migration(migrations.Migration):
    dependencies = [("activities", "0002_reminders_compliance_feeds")]

    operations = [migrations.RunPython(seed, unseed)]
