"""Cursor pagination for every list (API.md: no total count, page_size up to 500, default 50)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    ordering = ("created_at", "id")
    invalid_cursor_message = _("The cursor is not valid.")

    def get_ordering(self, request, queryset, view):
        """The view's `get_cursor_ordering()` when it has one (e.g. by updated_at for ?updated_since=)."""
        if hasattr(view, "get_cursor_ordering"):
            return tuple(view.get_cursor_ordering())
        return super().get_ordering(request, queryset, view)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except Exception as exc:  # DRF raises NotFound; a bad cursor is bad input, not a missing page
            raise ValidationError({self.cursor_query_param: [str(self.invalid_cursor_message)]}) from exc

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                size = 0
            if size < 1 or size > self.max_page_size:
                raise ValidationError(
                    {self.page_size_query_param: [_("Enter a whole number from 1 to %d.") % self.max_page_size]}
                )
            return size
        return self.page_size
