"""Base viewset of every synced resource: reads through mixins, writes as explicit methods per resource."""

from django.shortcuts import get_object_or_404
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core.api.concurrency import VersionedRecordMixin
from core.api.idempotency import IdempotencyMixin


class SyncedRecordViewSet(
    IdempotencyMixin, VersionedRecordMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List and retrieve (with ETag) over a scoped selector; subclasses add create/update/destroy.

    Lists are ordered for the cursor by creation, or by last change when `?updated_since=` is given
    (API.md: "changed at or after that time, oldest first"). Routes are expected in the "api"
    namespace (`api:<basename>-detail`).
    """

    def filter_queryset(self, queryset):
        # Filters narrow lists only: a detail URL or a write must not 404 or 400 because of stray query params.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_cursor_ordering(self) -> tuple[str, ...]:
        if "updated_since" in self.request.query_params:
            return ("updated_at", "id")
        return ("created_at", "id")

    #
    # Helpers for the explicit write methods
    #
    def validated_input(self, serializer_class, *, instance=None, partial: bool = False) -> dict:
        """The request body checked by an input serializer (400 naming each field otherwise).

        `instance` is only context for the input's checks (the serializer never saves it).
        """
        serializer = serializer_class(
            instance, data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def fresh(self, pk):
        """The record as the API shows it after a write, read again through the scoped queryset."""
        return get_object_or_404(self.get_queryset(), pk=pk)

    def created_response(self, obj) -> Response:
        """201 with the new record, its ETag and its Location."""
        location = reverse(f"api:{self.basename}-detail", kwargs={"pk": obj.pk}, request=self.request)
        return self.record_response(
            self.fresh(obj.pk), status_code=status.HTTP_201_CREATED, headers={"Location": location}
        )
