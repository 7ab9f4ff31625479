"""The registry of notification kinds. Each app declares its own in `<app>/notifications.py`:

    KINDS = [
        NotificationKind("activities.reminder", _("Activity reminder"), email=ON, sms=ON),
    ]

core imports no app: the modules are found with `autodiscover_modules("notifications")` on first use.
A channel's policy for a kind is ON or OFF (the default, which each user may change), ALWAYS (on and
not switchable: the message is a duty, e.g. an escalation) or NEVER (the sender has nothing to send
there, e.g. SMS where the app knows no phone numbers; not shown as a choice).
"""

import enum
import sys
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules


class Policy(enum.Enum):
    ON = "on"
    OFF = "off"
    ALWAYS = "always"
    NEVER = "never"


ON, OFF, ALWAYS, NEVER = Policy.ON, Policy.OFF, Policy.ALWAYS, Policy.NEVER

#: The channels, in the order the preferences grid shows them; also NotificationPreference's field names.
CHANNELS = ("in_app", "email", "sms")


@dataclass(frozen=True)
class NotificationKind:
    """One kind of message an app sends: its dotted code, a label for the preferences page, and per channel
    whether it is on by default, always on, or not used."""

    code: str
    label: str
    in_app: Policy = ON
    email: Policy = OFF
    sms: Policy = NEVER

    def policy(self, channel: str) -> Policy:
        return getattr(self, channel)

    def default(self, channel: str) -> bool:
        return self.policy(channel) in (ON, ALWAYS)

    def available(self, channel: str) -> bool:
        return self.policy(channel) is not NEVER

    def mandatory(self, channel: str) -> bool:
        return self.policy(channel) is ALWAYS

    def switchable(self, channel: str) -> bool:
        return self.policy(channel) in (ON, OFF)

    @property
    def defaults(self) -> dict[str, bool]:
        return {channel: self.default(channel) for channel in CHANNELS}


_registry: dict[str, NotificationKind] | None = None


def _discover() -> dict[str, NotificationKind]:
    autodiscover_modules("notifications")
    found: dict[str, NotificationKind] = {}
    for config in apps.get_app_configs():
        module = sys.modules.get(f"{config.name}.notifications")
        for kind in getattr(module, "KINDS", ()):
            if not isinstance(kind, NotificationKind):
                raise ImproperlyConfigured(
                    f"{config.name}.notifications.KINDS holds {kind!r}, not a NotificationKind."
                )
            if kind.code in found:
                raise ImproperlyConfigured(f"Notification kind {kind.code!r} is declared twice.")
            found[kind.code] = kind
    return found


def notification_kinds() -> dict[str, NotificationKind]:
    """Every declared kind by code, in app order then declaration order (discovered once per process)."""
    global _registry
    if _registry is None:
        _registry = _discover()
    return _registry


def notification_kind_get(code: str) -> NotificationKind:
    """The declared kind; ValueError for a code no app declares (a typo in a sender must fail loudly)."""
    try:
        return notification_kinds()[code]
    except KeyError:
        raise ValueError(
            f"Unknown notification kind {code!r}: declare it in KINDS of the sending app's notifications.py."
        ) from None
