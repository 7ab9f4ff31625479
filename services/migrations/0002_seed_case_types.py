"""Seed the case types of DOMAIN.md §5 (admins edit them afterwards). Hazard reports go to the street office."""

from django.db import migrations

CASE_TYPES = [
    ("wage_arrears", "欠薪讨薪", ""),
    ("labour_contract", "劳动合同与书面协议", ""),
    ("occupational_injury", "职业伤害", ""),
    ("penalties_algorithms", "罚款与算法规则", ""),
    ("social_insurance", "社会保险", ""),
    ("health_certificate", "健康证", ""),
    ("parking_access", "停车与楼宇通行", ""),
    ("hardship_aid", "困难帮扶", ""),
    ("legal_aid", "法律援助", ""),
    ("mental_health", "心理健康", ""),
    ("housing", "住房", ""),
    ("children_schooling", "子女入学", ""),
    ("hazard_report", "隐患报告", "street_office"),
]


def seed(apps, schema_editor):
    CaseType = apps.get_model("services", "CaseType")
    for position, (code, name, route_to) in enumerate(CASE_TYPES, start=1):
        CaseType.objects.get_or_create(code=code, defaults={"name": name, "position": position, "route_to": route_to})


def unseed(apps, schema_editor):
    apps.get_model("services", "CaseType").objects.filter(code__in=[c for c, _n, _r in CASE_TYPES]).delete()


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
