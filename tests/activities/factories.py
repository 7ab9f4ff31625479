import datetime

import factory
from django.utils import timezone

from activities.actions import activity_create
from activities.models import Activity


def at(days: int = 1, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """A local time `days` from today at hour:minute (outside the peak windows by default)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


class ActivityFactory(factory.Factory):
    """Activities created through `activity_create` (audit and change records are real). Pass `branch=`."""

    class Meta:
        model = Activity

    title = factory.Sequence(lambda n: f"Study session {n}")
    kind = "study"
    mode = "offline"
    venue = "Rider station, 2nd floor"
    starts_at = factory.LazyFunction(lambda: at(days=1, hour=9))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=1))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return activity_create(actor=kwargs.pop("actor", None), **kwargs)
