"""Keyset pagination helper (core/pagination.py), on a real model: the organisation tree's branches."""

import pytest
from django.http import QueryDict

from branches.models import Branch
from core.pagination import InvalidCursor, keyset_paginate, page_query

pytestmark = pytest.mark.django_db


def test_keyset_paginate_walks_forward_and_back_by_a_timestamp_with_ties_on_id(branch_tree):
    Branch.objects.update(created_at=Branch.objects.order_by("created_at").first().created_at)  # all tied
    qs = Branch.objects.all()
    ordering = ("-created_at", "-id")

    first = keyset_paginate(qs, ordering=ordering, cursor=None, per_page=2)
    second = keyset_paginate(qs, ordering=ordering, cursor=first.next_cursor, per_page=2)
    third = keyset_paginate(qs, ordering=ordering, cursor=second.next_cursor, per_page=2)
    back = keyset_paginate(qs, ordering=ordering, cursor=second.previous_cursor, per_page=2)

    walked = [b.pk for page in (first, second, third) for b in page]
    assert walked == list(qs.order_by(*ordering).values_list("pk", flat=True))
    assert not first.has_previous
    assert not third.has_next
    assert [b.pk for b in back] == [b.pk for b in first]
    assert not back.has_previous


def test_keyset_paginate_refuses_a_cursor_of_another_ordering(branch_tree):
    first = keyset_paginate(Branch.objects.all(), ordering=("name", "id"), cursor=None, per_page=1)

    with pytest.raises(InvalidCursor):
        keyset_paginate(Branch.objects.all(), ordering=("path", "id"), cursor=first.next_cursor, per_page=1)
    with pytest.raises(InvalidCursor):
        keyset_paginate(Branch.objects.all(), ordering=("name", "id"), cursor="%%%", per_page=1)


def test_keyset_paginate_needs_fields_of_the_model_itself():
    with pytest.raises(ValueError, match="fields of Branch itself"):
        keyset_paginate(Branch.objects.all(), ordering=("parent__name", "id"), cursor=None, per_page=1)


def test_page_query_replaces_only_the_cursor():
    query = QueryDict("status=normal&status=reserved&cursor=old")

    assert page_query(query, "new") == "?status=normal&status=reserved&cursor=new"
    assert page_query(query, None) == "?status=normal&status=reserved"
