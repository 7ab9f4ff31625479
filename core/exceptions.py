"""Domain exceptions raised by actions; the API maps them to HTTP statuses, the pages to messages."""

from django.utils.translation import gettext_lazy as _


class Conflict(Exception):
    """The action is not allowed in the record's current state (HTTP 409)."""

    default_message = _("This action is not allowed in the record's current state.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(self.message)

    def __str__(self):
        return str(self.message)
