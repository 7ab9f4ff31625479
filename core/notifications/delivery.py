"""deliver(): the one way apps send a message to people, in the app, by e-mail and by text message.

Per recipient the channels are the kind's defaults overridden by the user's NotificationPreference
(read in ONE query for the whole batch), with the kind's mandatory channels always on. E-mails go out
over one connection, one message per recipient (nobody sees the others' addresses); text messages go
to the phone numbers the sending app supplies (`phones`), since core knows no numbers. App rules such as
quiet hours or who is due stay with the app.

Order: e-mail, then SMS, then the in-app rows in one INSERT. A failing mail server raises before any
in-app row is written, so a caller that retries (after releasing its claim) does not double the inbox.
"""

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from core.models import NotificationPreference
from core.notifications.inbox import notification_build, notifications_save
from core.notifications.kinds import CHANNELS, notification_kind_get
from core.notifications.preferences import channels_for
from core.sms import SmsMessage, send_sms

#: recipients whose preferences are read in one query
PREFERENCE_CHUNK = 10_000


@dataclass
class DeliveryResult:
    """What went out: counts per channel and, per recipient id, the channels used."""

    in_app: int = 0
    email: int = 0
    sms: int = 0
    channels: dict = field(default_factory=dict)
    #: the channels used for `guest_phones` (("sms",) or ())
    guest_channels: tuple[str, ...] = ()

    def used(self, user_pk) -> tuple[str, ...]:
        return self.channels.get(user_pk, ())

    def __bool__(self) -> bool:
        return bool(self.in_app or self.email or self.sms)


def _email_body(body: str, url: str) -> str:
    """The text, then the link; a site path gets settings.SITE_URL ("https://branchwork.example") when set."""
    if url.startswith("/"):
        url = getattr(settings, "SITE_URL", "").rstrip("/") + url
    return "\n\n".join(part for part in (str(body), url) if part)


def deliver(
    *,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    phones: Mapping | Callable | None = None,
    channels: Collection[str] | None = None,
    guest_phones: Iterable[str] = (),
) -> DeliveryResult:
    """Send one message to many users through the notification centre; returns counts per channel.

    - `recipients`: users (duplicates and inactive accounts are skipped; None entries are ignored).
    - `kind`: a code declared in some app's notifications.py (ValueError otherwise).
    - `phones`: the SMS number per user, as a mapping user pk → number or a callable user → number;
      without it no text message is sent (the kind must also use SMS and the user have it on).
    - `channels`: the channels the caller allows at all (a site setting, e.g.); default: all three.
    - `guest_phones`: numbers of people without an (active) account, e.g. members who never log in;
      they get the text message when the kind sends SMS by default, as no preference can exist for them.
    """
    notification_kind = notification_kind_get(kind)
    users = {}
    for user in recipients:
        if user is not None and user.is_active and user.pk not in users:
            users[user.pk] = user
    result = DeliveryResult()
    allowed = set(CHANNELS if channels is None else channels)
    guest_phones = [number for number in guest_phones if number]
    if not users and not guest_phones:
        return result
    preferences = {}
    pks = list(users)
    # One query for the batch (one per PREFERENCE_CHUNK recipients, to stay inside SQL parameter limits).
    for start in range(0, len(pks), PREFERENCE_CHUNK):
        chunk = pks[start : start + PREFERENCE_CHUNK]
        preferences.update((p.user_id, p) for p in NotificationPreference.objects.filter(kind=kind, user_id__in=chunk))
    phone_of = phones if callable(phones) else (lambda user: (phones or {}).get(user.pk))
    title = str(title)
    mails, texts, notes = [], [], []
    for pk, user in users.items():
        chosen = channels_for(notification_kind, preferences.get(pk))
        used = []
        if chosen["email"] and "email" in allowed and user.email:
            mails.append(EmailMessage(subject=title, body=_email_body(body, url), to=[user.email]))
            used.append("email")
        if chosen["sms"] and "sms" in allowed and phones is not None:
            number = phone_of(user)
            if number:
                texts.append(SmsMessage(to=number, text=f"{title} {body}".strip()))
                used.append("sms")
        if chosen["in_app"] and "in_app" in allowed:
            notes.append(notification_build(recipient_id=pk, kind=kind, title=title, body=body, url=url))
            used.append("in_app")
        result.channels[pk] = tuple(c for c in CHANNELS if c in used)
    if guest_phones and notification_kind.default("sms") and "sms" in allowed:
        texts.extend(SmsMessage(to=number, text=f"{title} {body}".strip()) for number in guest_phones)
        result.guest_channels = ("sms",)
    if mails:
        result.email = get_connection(fail_silently=False).send_messages(mails) or 0
    result.sms = send_sms(texts)
    notifications_save(notes)
    result.in_app = len(notes)
    return result
