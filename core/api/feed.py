"""The change feed `/api/v1/sync/changes/` (API.md): a snapshot, then every change, in the caller's scope.

Ordering and the no-skip proof
------------------------------
Each ChangeRecord carries `xid`, the id of the transaction that wrote it (a PostgreSQL trigger fills it
from `pg_current_xact_id()`, a 64-bit id that never wraps), and the feed is ordered by `(xid, seq)`, not
by `seq` alone. A request first reads the horizon `h = pg_snapshot_xmin(pg_current_snapshot())`: every
transaction with an id below `h` has ended (committed or rolled back), and every transaction still
running, or started later, has an id `>= h`. The request then serves only records with `xid < h`, in
`(xid, seq)` order, after the client's cursor. So:
  * all records below the horizon are final: the query (run after `h` was read) sees every committed one;
  * every record committed later belongs to a transaction with `xid >= h` > any served xid, so it
    sorts after every cursor this request hands out.
Hence no record is ever behind a cursor when it becomes visible: nothing is skipped, whatever order the
transactions commit in. Serving by `seq` with a "hold back xid >= xmin" filter would not be enough (an
older transaction can take a *lower* seq than a younger one that commits first); ordering by xid is what
makes the cursor safe. The price: one long-running transaction holds the feed back until it ends.
(Records of the reading transaction itself are served too; the feed never writes change records, so in
production there are none: this only lets tests that run inside one transaction read their own writes.)
On SQLite there is a single writer and `xid` is 0: the order is `seq`, which is commit order there.

Snapshot
--------
Without a cursor the feed first lists every record in scope as upserts, type by type, by id (keyset,
so a page costs the same at any depth). The position `(h0, 0)` read when the snapshot starts is kept
in its cursor; when the snapshot ends the feed continues with the changes from there, which include
every transaction that had not ended when the snapshot started: changes made during or after the
snapshot are never lost (some are replayed; applying a change twice is harmless).

Scope
-----
Records are read through each resource's own viewset (its scoped selector and its output serializer,
so `data` is the detail representation, members masked or revealed and audited exactly as on
`/members/<id>/`). A change whose record is no longer visible yields:
  * `delete` (a tombstone) when the record is deleted and its owner branch is in scope;
  * `remove` with reason `out_of_scope` when the record is alive but outside the scope now, and was in
    it before this change: its owner branch is in scope, or `prev_path` (the owner's tree path before a
    move, written by the save that moved the record or by `branch_move` for a whole moved subtree)
    passes through a branch the caller's grants cover. Grants are compared by branch id, which survives
    later moves of the tree;
  * nothing otherwise: records that never were in scope do not exist for the caller.
Records that enter the scope (moved in) arrive as ordinary upserts of the same change records.

Cursors are opaque (base64 JSON) and carry their issue time; one older than SYNC_FEED_RETENTION_DAYS is
answered 410 `resync_required`. `sync_records_purge` deletes change records a day past that window.
"""

import base64
import binascii
import datetime
import json
import time
import uuid

from django.conf import settings
from django.db import connection
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_responses
from core.models import ChangeOp, ChangeRecord, IdempotencyRecord

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
#: change-phase batches scanned per request at most (records outside the scope are skipped)
MAX_BATCHES = 10


class ResyncRequired(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "resync_required"
    default_detail = _("This cursor is older than the retention window. Start again without a cursor.")


class ChangeSerializer(serializers.Serializer):
    seq = serializers.CharField(help_text=_("Position of the change; opaque."))
    type = serializers.CharField(help_text=_("Resource: branch, unit, member, activity, attendance, worker, ..."))
    id = serializers.UUIDField()
    op = serializers.ChoiceField(choices=["upsert", "delete", "remove"])
    version = serializers.IntegerField()
    data = serializers.DictField(
        allow_null=True, help_text=_("The record as its detail endpoint shows it; null for delete and remove.")
    )
    reason = serializers.CharField(required=False, help_text=_("For remove: out_of_scope."))


class ChangePageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    next_cursor = serializers.CharField(help_text=_("Ask again with this; store the last one."))
    has_more = serializers.BooleanField(help_text=_("False: you are up to date; ask again later with next_cursor."))


#
# Cursor and horizon
#
def encode_cursor(state: dict) -> str:
    state = {**state, "t": int(time.time())}
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> dict:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(state, dict) or state.get("p") not in ("snap", "chg") or not isinstance(state.get("t"), int):
            raise ValueError
        if not all(isinstance(state.get(k), int) for k in ("x", "s")):
            raise ValueError
        if state["p"] == "snap":
            types, index, last_id = state.get("ty"), state.get("i"), state.get("id")
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types) or not isinstance(index, int):
                raise ValueError
            if last_id is not None:
                uuid.UUID(str(last_id))
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError) as exc:
        raise ValidationError({"cursor": [_("The cursor is not valid.")]}) from exc
    if state["t"] < time.time() - settings.SYNC_FEED_RETENTION_DAYS * 86400:
        raise ResyncRequired
    return state


def feed_horizon() -> tuple[int | None, int | None]:
    """(horizon, own xid): serve xid < horizon (None: no limit, SQLite), plus the reading transaction's own."""
    if connection.vendor != "postgresql":
        return None, None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
            "pg_current_xact_id_if_assigned()::text::bigint"
        )
        horizon, own = cursor.fetchone()
    return horizon, own


def feed_start() -> tuple[int, int]:
    """The change position a snapshot starts at: no change after it can be missed by continuing from here."""
    horizon, _own = feed_horizon()
    if horizon is not None:
        return horizon, 0
    return 0, ChangeRecord.objects.aggregate(m=Max("seq"))["m"] or 0


#
# The view
#
@extend_schema(
    summary=_("Changes since your cursor (or a snapshot)"),
    description=_(
        "Without `cursor`: a snapshot of every record in your scope as upserts, then the changes. Follow "
        "`next_cursor` until `has_more` is false, keep the last `next_cursor`, and ask again later with it. "
        "`delete` is a tombstone; `remove` means the record left your scope. No change is ever skipped; "
        "applying one twice is harmless (compare `version`). A cursor older than the retention window is 410."
    ),
    parameters=[
        OpenApiParameter("cursor", OpenApiTypes.STR, description=_("The last next_cursor you received.")),
        OpenApiParameter(
            "types",
            OpenApiTypes.STR,
            description=_("Comma-separated resource types, e.g. member,case (all if empty)."),
        ),
        OpenApiParameter("limit", OpenApiTypes.INT, description=_("Changes per page, 1 to 500 (default 100).")),
    ],
    responses={
        200: ChangePageSerializer,
        **error_responses(400, 401, 410, 429),
    },
)
class ChangeFeedView(APIView):
    """GET /api/v1/sync/changes/. Configured with `types` (feed type → viewset) and the scope functions."""

    permission_classes = [IsAuthenticated]
    #: {"member": MemberViewSet, ...}; each viewset has scope_area and a scoped get_queryset()
    types: dict = {}
    #: branches.permissions.scope_paths and branch_scope (core imports no app)
    scope_paths = None
    branch_scope = None

    def get(self, request, *args, **kwargs):
        limit = self._limit()
        permitted = self._permitted_types()
        raw = request.query_params.get("cursor")
        if raw:
            state = decode_cursor(raw)
        else:
            x0, s0 = feed_start()
            state = {"p": "snap", "ty": permitted, "i": 0, "id": None, "x": x0, "s": s0}
        if state["p"] == "snap":
            return self._snapshot_page(state, limit)
        return self._change_page(state, limit, permitted)

    #
    # Input
    #
    def _limit(self) -> int:
        raw = self.request.query_params.get("limit")
        if raw is None:
            return DEFAULT_LIMIT
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError({"limit": [_("Enter a whole number from 1 to %d.") % MAX_LIMIT]})
        return limit

    def _permitted_types(self) -> list[str]:
        raw = self.request.query_params.get("types", "")
        wanted = [t.strip() for t in raw.split(",") if t.strip()] or list(self.types)
        unknown = [t for t in wanted if t not in self.types]
        if unknown:
            raise ValidationError({"types": [_("Unknown types: %(types)s.") % {"types": ", ".join(unknown)}]})
        return [t for t in self.types if t in wanted and self._paths(t) != []]

    def _perm(self, type_name: str) -> str:
        """The permission whose scope carries a type: `scope_perm` when the viewset names one (records that
        need more than viewing, e.g. appraisal results), else "<scope_area>.view"."""
        viewset = self.types[type_name]
        return getattr(viewset, "scope_perm", None) or f"{viewset.scope_area}.view"

    def _paths(self, type_name: str):
        return self.scope_paths(self.request.user, self._perm(type_name))

    def _view(self, type_name: str):
        view = self.types[type_name](request=self.request, format_kwarg=None, args=(), kwargs={}, action="retrieve")
        view.headers = {}
        return view

    def _serialise(self, view, objs) -> list[dict]:
        if hasattr(view, "_reveal"):  # members: decide (and audit) full views as the detail endpoint does
            view._reveal(objs)
        return view.get_serializer(objs, many=True).data

    #
    # Snapshot: every type, by id
    #
    def _snapshot_page(self, state: dict, limit: int) -> Response:
        type_names = [t for t in state.get("ty", []) if t in self.types]
        results = []
        index, last_id = int(state.get("i", 0)), state.get("id")
        while index < len(type_names) and len(results) < limit:
            type_name = type_names[index]
            view = self._view(type_name)
            queryset = view.get_queryset().order_by("pk")
            if last_id:
                queryset = queryset.filter(pk__gt=last_id)
            want = limit - len(results)
            objs = list(queryset[:want])
            for obj, data in zip(objs, self._serialise(view, objs), strict=True):
                results.append(
                    {
                        "seq": "",
                        "type": type_name,
                        "id": str(obj.pk),
                        "op": "upsert",
                        "version": obj.version,
                        "data": data,
                    }
                )
            if len(objs) < want:
                index, last_id = index + 1, None
            else:
                last_id = str(objs[-1].pk)
        if index < len(type_names):
            next_state = {**state, "i": index, "id": last_id}
        else:
            next_state = {"p": "chg", "x": state["x"], "s": state["s"]}
        return self._page(results, next_state, has_more=True)

    #
    # Changes: (xid, seq) order below the horizon
    #
    def _change_page(self, state: dict, limit: int, type_names: list[str]) -> Response:
        horizon, own = feed_horizon()
        x, s = int(state["x"]), int(state.get("s", 0))
        visible = Q()
        if horizon is not None:
            visible = Q(xid__lt=horizon) | Q(xid=own) if own is not None else Q(xid__lt=horizon)
        results = []
        has_more = False
        for _batch in range(MAX_BATCHES):
            after = Q(xid__gt=x) | Q(xid=x, seq__gt=s)
            batch = list(
                ChangeRecord.objects.filter(after, visible, resource__in=type_names).order_by("xid", "seq")[:limit]
            )
            if batch:
                x, s = batch[-1].xid, batch[-1].seq
                results.extend(self._resolve(batch))
            has_more = len(batch) == limit
            if not has_more or len(results) >= limit:
                break
        return self._page(results, {"p": "chg", "x": x, "s": s}, has_more=has_more)

    def _resolve(self, batch: list[ChangeRecord]) -> list[dict]:
        by_type: dict[str, list[ChangeRecord]] = {}
        for record in batch:
            by_type.setdefault(record.resource, []).append(record)
        visible: dict[tuple[str, str], tuple[object, dict]] = {}
        owners_in_scope: dict[str, set[str]] = {}
        for type_name, records in by_type.items():
            view = self._view(type_name)
            objs = list(view.get_queryset().filter(pk__in={r.object_id for r in records}))
            for obj, data in zip(objs, self._serialise(view, objs), strict=True):
                visible[(type_name, str(obj.pk))] = (obj, data)
            hidden_owner_ids = {
                r.branch_id for r in records if (type_name, str(r.object_id)) not in visible and r.branch_id
            }
            owners_in_scope[type_name] = (
                {
                    str(pk)
                    for pk in self.branch_scope(self.request.user, self._perm(type_name))
                    .filter(pk__in=hidden_owner_ids)
                    .values_list("pk", flat=True)
                }
                if hidden_owner_ids
                else set()
            )
        out = []
        for record in batch:
            key = (record.resource, str(record.object_id))
            entry = {"seq": f"{record.xid}.{record.seq}", "type": record.resource, "id": key[1]}
            if key in visible:
                obj, data = visible[key]
                out.append({**entry, "op": "upsert", "version": obj.version, "data": data})
                continue
            owner_in_scope = str(record.branch_id) in owners_in_scope[record.resource]
            if record.op == ChangeOp.DELETE:
                if owner_in_scope:
                    out.append({**entry, "op": "delete", "version": record.version, "data": None})
            elif owner_in_scope or self._was_in_scope(record):
                out.append(
                    {**entry, "op": "remove", "version": record.version, "data": None, "reason": "out_of_scope"}
                )
        return out

    def _was_in_scope(self, record: ChangeRecord) -> bool:
        """Whether the owner's path before this change ran through a branch the caller's grants cover."""
        if not record.prev_path:
            return False
        paths = self.scope_paths(self.request.user, self._perm(record.resource))
        if paths is None:
            return True
        grant_ids = [p.strip("/").rsplit("/", 1)[-1] for p in paths]
        return any(f"/{g}/" in record.prev_path for g in grant_ids)

    def _page(self, results: list[dict], next_state: dict, *, has_more: bool) -> Response:
        return Response({"results": results, "next_cursor": encode_cursor(next_state), "has_more": has_more})


#
# Retention
#
def sync_records_purge(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete change records a day past the cursor retention window, and idempotency records past 24 h."""
    now = now or timezone.now()
    feed_cutoff = now - datetime.timedelta(days=settings.SYNC_FEED_RETENTION_DAYS + 1)
    changes, _ = ChangeRecord.objects.filter(at__lt=feed_cutoff).delete()
    keys_cutoff = now - datetime.timedelta(hours=settings.SYNC_IDEMPOTENCY_HOURS)
    keys, _ = IdempotencyRecord.objects.filter(created_at__lt=keys_cutoff).delete()
    return changes, keys
