"""Keyset ("seek") pagination for server-rendered lists: no COUNT, no OFFSET.

A page is read with `WHERE (sort key, id) > (last row's key) ORDER BY sort key, id LIMIT n + 1`, so it
costs the same on page 1 and page 2,000 and no row is lost or repeated when rows are added meanwhile.
The cursor in the URL carries the boundary row's key values and the direction; it is not secret (the
queryset is already scoped) but holds only the ordering fields, so never order by a sensitive column.

    page = keyset_paginate(qs, ordering=("name_pinyin", "id"), cursor=request.GET.get("cursor"), per_page=50)
    page.object_list, page.next_cursor, page.previous_cursor

The ordering must end with a unique field (usually "id") and use only NOT NULL fields of the model itself.
"""

import base64
import binascii
import datetime
import decimal
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet
from django.http import QueryDict


class InvalidCursor(ValueError):
    """A cursor that cannot be read or belongs to another ordering; callers show the first page."""


@dataclass
class KeysetPage:
    object_list: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    ordering: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)


def _plain(value):
    """JSON-safe value; datetimes keep their microseconds (DjangoJSONEncoder would cut them off)."""
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    return value


def encode_cursor(*, ordering: Sequence[str], values: Sequence, before: bool) -> str:
    payload = {"o": list(ordering), "k": [_plain(v) for v in values], "b": before}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, model, ordering: Sequence[str]) -> tuple[list, bool]:
    """(key values as Python objects, whether the page lies before the key); InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        if payload["o"] != list(ordering) or len(payload["k"]) != len(ordering):
            raise InvalidCursor("The cursor belongs to another ordering.")
        values = [
            model._meta.get_field(name.lstrip("-")).to_python(value)
            for name, value in zip(ordering, payload["k"], strict=True)
        ]
        before = bool(payload["b"])
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError, ValidationError) as exc:
        raise InvalidCursor("The cursor is not valid.") from exc
    if any(v is None for v in values):
        raise InvalidCursor("The cursor is not valid.")
    return values, before


def _after(ordering: Sequence[str], values: Sequence) -> Q:
    """Rows strictly after `values` in `ordering` (each field ascending, or descending with "-").

    Written as `a >= x AND (a > x OR (a = x AND b > y) …)`: the leading range lets PostgreSQL start
    the index scan at the boundary instead of filtering from the top.
    """
    names = [name.lstrip("-") for name in ordering]
    ops = ["lt" if name.startswith("-") else "gt" for name in ordering]
    condition = Q()
    for i in range(len(ordering) - 1, -1, -1):
        step = Q(**{f"{names[i]}__{ops[i]}": values[i]})
        if i < len(ordering) - 1:
            step |= Q(**{names[i]: values[i]}) & condition
        condition = step
    leading = Q(**{f"{names[0]}__{ops[0]}e": values[0]})
    return leading & condition


def _reverse(ordering: Sequence[str]) -> tuple[str, ...]:
    return tuple(name[1:] if name.startswith("-") else f"-{name}" for name in ordering)


def _key(obj, ordering: Sequence[str]) -> list:
    return [getattr(obj, name.lstrip("-")) for name in ordering]


def keyset_paginate(queryset: QuerySet, *, ordering: Sequence[str], cursor: str | None, per_page: int) -> KeysetPage:
    """One page of `queryset` in `ordering`, after (or before) the cursor's row; one query (plus prefetches).

    Raises InvalidCursor for a cursor that cannot be read or was made for another ordering.
    """
    ordering = tuple(ordering)
    model = queryset.model
    for name in ordering:
        try:
            model._meta.get_field(name.lstrip("-"))
        except FieldDoesNotExist as exc:
            raise ValueError(f"Keyset ordering needs fields of {model.__name__} itself, not {name!r}.") from exc

    if not cursor:
        rows = list(queryset.order_by(*ordering)[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page]
        return KeysetPage(
            object_list=rows,
            next_cursor=_cursor(rows[-1], ordering, before=False) if more else None,
            ordering=ordering,
        )

    values, before = decode_cursor(cursor, model=model, ordering=ordering)
    if before:
        reverse = _reverse(ordering)
        rows = list(queryset.filter(_after(reverse, values)).order_by(*reverse)[: per_page + 1])
        more = len(rows) > per_page
        rows = rows[:per_page][::-1]
        return KeysetPage(
            object_list=rows,
            previous_cursor=_cursor(rows[0], ordering, before=True) if more and rows else None,
            # The row the cursor came from is still there (or was its successor): there is a next page.
            next_cursor=_cursor(rows[-1], ordering, before=False)
            if rows
            else encode_cursor(ordering=ordering, values=values, before=False),
            ordering=ordering,
        )
    rows = list(queryset.filter(_after(ordering, values)).order_by(*ordering)[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    return KeysetPage(
        object_list=rows,
        next_cursor=_cursor(rows[-1], ordering, before=False) if more else None,
        previous_cursor=_cursor(rows[0], ordering, before=True)
        if rows
        else encode_cursor(ordering=ordering, values=values, before=True),
        ordering=ordering,
    )


def _cursor(obj, ordering: Sequence[str], *, before: bool) -> str:
    return encode_cursor(ordering=ordering, values=_key(obj, ordering), before=before)


def page_query(query: QueryDict, cursor: str | None, *, param: str = "cursor") -> str:
    """The current query string with `param` set to `cursor` (or removed), for next/previous links."""
    query = query.copy()
    query.pop(param, None)
    if cursor:
        query[param] = cursor
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"
