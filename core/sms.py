"""Text messages: a tiny backend protocol chosen by settings.SMS_BACKEND (a dotted path).

Real gateways (Aliyun, Tencent Cloud) plug in as another class with the same `send_messages`; the
console backend prints, the locmem backend keeps messages in `core.sms.outbox` for tests.
"""

import logging
import sys
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str


class SmsBackend(Protocol):
    def send_messages(self, messages: list[SmsMessage]) -> int:
        """Send the messages; return how many went out."""


class ConsoleSmsBackend:
    """Writes each message to stdout (development, benches)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send_messages(self, messages: list[SmsMessage]) -> int:
        for message in messages:
            self.stream.write(f"SMS to {message.to}: {message.text}\n")
        self.stream.flush()
        return len(messages)


#: Messages "sent" by the locmem backend.
outbox: list[SmsMessage] = []


class LocmemSmsBackend:
    """Keeps messages in `core.sms.outbox` (tests)."""

    def send_messages(self, messages: list[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


class NullSmsBackend:
    """Sends nothing (SMS switched off)."""

    def send_messages(self, messages: list[SmsMessage]) -> int:
        return 0


def get_sms_backend() -> SmsBackend:
    return import_string(getattr(settings, "SMS_BACKEND", "core.sms.ConsoleSmsBackend"))()


def send_sms(messages: list[SmsMessage]) -> int:
    """Send through the configured backend; an empty list costs nothing."""
    if not messages:
        return 0
    return get_sms_backend().send_messages(messages)
