"""The usual platforms, so that members can be recorded at once; more can be added in the admin."""

from django.db import migrations

PLATFORMS = [
    ("meituan", "美团"),
    ("eleme", "饿了么"),
    ("dada", "达达"),
    ("shansong", "闪送"),
    ("sf", "顺丰"),
    ("jd", "京东"),
    ("cainiao", "菜鸟"),
    ("zto", "中通"),
    ("yto", "圆通"),
    ("sto", "申通"),
    ("yunda", "韵达"),
    ("jtexpress", "极兔"),
    ("ems", "中国邮政"),
    ("didi", "滴滴出行"),
    ("caocao", "曹操出行"),
    ("t3", "T3出行"),
    ("amap", "高德"),
    ("huolala", "货拉拉"),
    ("manbang", "满帮"),
    ("kuaigou", "快狗打车"),
    ("other", "其他"),
]


def add_platforms(apps, schema_editor):
    Platform = apps.get_model("members", "Platform")
    for position, (code, name) in enumerate(PLATFORMS):
        Platform.objects.get_or_create(code=code, defaults={"name": name, "position": position * 10})


def remove_platforms(apps, schema_editor):
    Platform = apps.get_model("members", "Platform")
    Platform.objects.filter(code__in=[code for code, _name in PLATFORMS], members__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(add_platforms, remove_platforms)]
