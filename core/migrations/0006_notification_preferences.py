# Pre-allocated in the migration chain so parallel work on core never forks it; filled by hand.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0005_changerecord_xid_trigger")]

    operations = [
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=60, verbose_name="kind")),
                ("in_app", models.BooleanField(verbose_name="in the app")),
                ("email", models.BooleanField(verbose_name="e-mail")),
                ("sms", models.BooleanField(verbose_name="text message")),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="updated at")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notification_preferences",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "notification preference",
                "verbose_name_plural": "notification preferences",
                "constraints": [
                    models.UniqueConstraint(fields=("user", "kind"), name="notification_pref_user_kind_unique")
                ],
            },
        ),
    ]
