"""Per-user notification preferences: which channels each kind reaches the user on.

A NotificationPreference row exists only where the user's choice differs from the kind's defaults, so
a new kind, or a changed default, reaches everyone who never touched it.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import NotificationPreference
from core.notifications.kinds import CHANNELS, NotificationKind, notification_kinds


@dataclass(frozen=True)
class PreferenceCell:
    channel: str
    available: bool
    mandatory: bool
    enabled: bool


@dataclass(frozen=True)
class PreferenceRow:
    kind: NotificationKind
    cells: tuple[PreferenceCell, ...]


def channels_for(kind: NotificationKind, preference: NotificationPreference | None) -> dict[str, bool]:
    """The channels a kind reaches a user on: defaults, overridden by the user's row, mandatory ones forced."""
    chosen = {}
    for channel in CHANNELS:
        if not kind.available(channel):
            chosen[channel] = False
        elif kind.mandatory(channel) or preference is None:
            chosen[channel] = kind.default(channel)
        else:
            chosen[channel] = getattr(preference, channel)
    return chosen


def notification_preferences(*, user) -> list[PreferenceRow]:
    """The preferences grid for one user: every declared kind × channel, with the user's choices; one query."""
    rows = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    grid = []
    for kind in notification_kinds().values():
        chosen = channels_for(kind, rows.get(kind.code))
        cells = tuple(
            PreferenceCell(
                channel=channel,
                available=kind.available(channel),
                mandatory=kind.mandatory(channel),
                enabled=chosen[channel],
            )
            for channel in CHANNELS
        )
        grid.append(PreferenceRow(kind=kind, cells=cells))
    return grid


def preference_key(kind: str, channel: str) -> str:
    """How a (kind, channel) pair is written in the page's checkbox values and the action's input."""
    return f"{kind}:{channel}"


def _parse(enabled: Iterable[str], kinds: dict[str, NotificationKind]) -> set[tuple[str, str]]:
    pairs, errors = set(), []
    for key in enabled:
        code, _sep, channel = str(key).rpartition(":")
        if code not in kinds:
            errors.append(_("Unknown notification kind: %(kind)s.") % {"kind": code or key})
        elif channel not in CHANNELS or not kinds[code].available(channel):
            errors.append(
                _("%(kind)s is not sent by %(channel)s.") % {"kind": kinds[code].label, "channel": channel or key}
            )
        else:
            pairs.add((code, channel))
    if errors:
        raise ValidationError({"enabled": errors})
    return pairs


@transaction.atomic
def notification_preferences_save(*, actor, enabled: Iterable[str]) -> list[NotificationPreference]:
    """Set the actor's channels for every kind at once: the `enabled` "kind:channel" pairs on, the rest off.

    Mandatory channels stay on whatever is sent (the page shows them disabled, so browsers never post
    them). Unknown kinds or channels a kind does not use are a ValidationError and nothing changes.
    Returns the rows kept (only those differing from the defaults).
    """
    kinds = notification_kinds()
    pairs = _parse(enabled, kinds)
    before = {p.kind: p for p in NotificationPreference.objects.select_for_update().filter(user=actor)}
    rows = []
    for kind in kinds.values():
        chosen = {
            channel: kind.default(channel) if not kind.switchable(channel) else (kind.code, channel) in pairs
            for channel in CHANNELS
        }
        if chosen != kind.defaults:
            rows.append(NotificationPreference(user=actor, kind=kind.code, **chosen))
    NotificationPreference.objects.filter(user=actor).delete()
    NotificationPreference.objects.bulk_create(rows)
    changed = sorted(
        set(before) ^ {r.kind for r in rows}
        | {r.kind for r in rows if r.kind in before and channels_of(before[r.kind]) != channels_of(r)}
    )
    if changed:
        audit_record(
            actor=actor,
            obj=actor,
            action="core.notification_preferences.saved",
            data={"changed": changed, "off_default": {r.kind: channels_of(r) for r in rows}},
        )
    return rows


def channels_of(preference: NotificationPreference) -> dict[str, bool]:
    return {channel: getattr(preference, channel) for channel in CHANNELS}
