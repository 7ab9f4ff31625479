from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


def check_member_keys(app_configs=None, **kwargs):
    """Refuse to start without usable keys for the sensitive member columns."""
    from members.crypto import check_keys

    return [checks.Error(problem, id="members.E001") for problem in check_keys()]


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        checks.register(check_member_keys, checks.Tags.security)
        from django.contrib.auth.signals import user_logged_in

        from members.signals import remember_member_link

        user_logged_in.connect(remember_member_link, dispatch_uid="members.remember_member_link")
