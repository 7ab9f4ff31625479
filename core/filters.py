"""Filter pieces every app's FilterSets share."""

import datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC at once.

    Python accepts offsets up to ±23:59, PostgreSQL only up to ±15:59: a time like
    `0627-01-27T05:30:12+22:07` passed through as it is would be a server error instead of a filter.
    A time that leaves the representable range in UTC is invalid input.
    """

    def to_python(self, value):
        result = super().to_python(value)
        if result is None or result.tzinfo is None:
            return result
        try:
            return result.astimezone(datetime.UTC)
        except OverflowError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
