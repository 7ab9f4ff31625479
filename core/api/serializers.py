"""Serializer pieces every synced resource shares: the envelope of API.md."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

#: Fields every synced record carries, first in every representation.
ENVELOPE_FIELDS = ("id", "version", "created_at", "updated_at", "branch", "external_ref")


class SyncedOutputSerializer(serializers.ModelSerializer):
    """Read-only representation of a SyncedModel.

    Subclasses set Meta.fields to `(*ENVELOPE_FIELDS, ...)` and Meta.read_only_fields to the same tuple, and
    declare their own extra fields with read_only=True: these serializers never take input.

    `branch` is the owning branch's id (a branch's parent for a branch): it decides who may see the record.
    """

    branch = serializers.UUIDField(
        source="owner_branch_id",
        read_only=True,
        allow_null=True,
        help_text=_("Id of the owning branch; it decides who may see the record."),
    )

    class Meta:
        fields = ENVELOPE_FIELDS
        read_only_fields = ENVELOPE_FIELDS

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        # DRF drops allow_blank from read-only fields, so a choice column that may be "" (blank=True) would
        # be documented as an enum without "": the schema would then refuse records the API really sends.
        allow_blank = kwargs.get("allow_blank")
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if allow_blank and "choices" in kwargs:
            kwargs["allow_blank"] = True
        return kwargs
