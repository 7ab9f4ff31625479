"""Per-request context (request id, client address) that actions read when writing audit entries.

Kept in contextvars so that actions need no request argument and tasks simply have none.
"""

import contextvars

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
client_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_ip", default=None)
