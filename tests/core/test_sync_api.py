"""The sync API of API.md: tokens, throttling, If-Match for tokens, idempotency, upserts, the change feed."""

import datetime
import io
import time
from http import HTTPStatus

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from branches import actions as branch_actions
from branches.choices import Role
from branches.models import Branch, Unit
from branches.tokens import token_issue, token_revoke
from core.api import feed
from core.models import ApiClient, AuditEntry, ChangeRecord, IdempotencyRecord, token_hash
from members.models import Member
from tests.members.factories import MemberFactory, make_citizen_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client():
    """token_client(branch, role) -> APIClient sending `Authorization: Token <key>`, with .api_client set."""

    def make(branch, role=Role.OFFICER, name="District system"):
        client_record, key = token_issue(actor=None, name=name, role=role, branch=branch)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        client.api_client = client_record
        client.key = key
        return client

    return make


def _unit_payload(branch, **extra):
    return {"branch": str(branch.pk), "name": "Rider Co", **extra}


def _feed_all(client, **params):
    """Follow the feed until has_more is false; returns (results, last cursor)."""
    results, cursor = [], None
    for _ in range(200):
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        response = client.get(reverse("api:sync-changes"), query)
        assert response.status_code == HTTPStatus.OK, response.content
        body = response.json()
        results.extend(body["results"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return results, cursor
    raise AssertionError("the feed never finished")


#
# Tokens
#
def test_token_is_stored_hashed_and_authenticates_in_scope(token_client, branch_tree):
    client = token_client(branch_tree["delivery"], Role.OFFICER)
    record = ApiClient.objects.get(pk=client.api_client.pk)

    response = client.get(reverse("api:branch-list"))

    assert response.status_code == HTTPStatus.OK
    names = {b["name"] for b in response.json()["results"]}
    assert names == {"Delivery committee", "Station A branch", "Station B branch"}
    assert record.key_hash == token_hash(client.key)
    assert client.key not in record.key_hash
    assert len(client.key) >= 40
    building = client.get(reverse("api:branch-detail", kwargs={"pk": branch_tree["building"].pk}))
    assert building.status_code == HTTPStatus.NOT_FOUND


def test_token_service_user_cannot_log_in(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    user = client.api_client.user

    assert not user.has_usable_password()
    assert list(user.role_assignments.values_list("role", "branch")) == [(Role.OFFICER, branch_tree["delivery"].pk)]


def test_token_last_used_is_written_at_most_once_a_minute(token_client, branch_tree, django_assert_num_queries):
    client = token_client(branch_tree["delivery"])
    client.get(reverse("api:unit-list"))
    first = ApiClient.objects.get(pk=client.api_client.pk).last_used_at
    client.get(reverse("api:unit-list"))

    assert first is not None
    assert ApiClient.objects.get(pk=client.api_client.pk).last_used_at == first
    ApiClient.objects.filter(pk=client.api_client.pk).update(last_used_at=first - datetime.timedelta(minutes=2))
    client.get(reverse("api:unit-list"))
    assert ApiClient.objects.get(pk=client.api_client.pk).last_used_at > first


def test_token_revoke_is_401(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    assert client.get(reverse("api:unit-list")).status_code == HTTPStatus.OK

    token_revoke(actor=None, client=client.api_client)
    response = client.get(reverse("api:unit-list"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["code"] == "not_authenticated"


def test_token_unknown_key_is_401(api_client, branch_tree):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "x" * 44)

    response = api_client.get(reverse("api:unit-list"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_issue_token_command_prints_a_working_key(branch_tree):
    out = io.StringIO()
    call_command(
        "issue_token", "Platform X", "--role", "caseworker", "--branch", str(branch_tree["station_a"].pk), stdout=out
    )
    key = out.getvalue().strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.get(reverse("api:worker-list")).status_code == HTTPStatus.OK
    assert client.get(reverse("api:member-list")).status_code == HTTPStatus.FORBIDDEN
    assert ApiClient.objects.get(key_hash=token_hash(key)).role == Role.CASEWORKER


def test_token_issue_refuses_admin_role_from_officer(branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)

    with pytest.raises(Exception, match="administrator"):
        token_issue(actor=officer, name="x", role=Role.ADMIN, branch=branch_tree["delivery"])


def test_token_pages_issue_list_and_revoke(client, branch_tree, role_at):
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)

    issued = client.post(
        reverse("branches:token_list"),
        {"name": "District HR", "role": Role.SECRETARY, "branch": branch_tree["station_a"].pk},
    )

    assert issued.status_code == HTTPStatus.OK
    key = issued.context["key"]
    record = ApiClient.objects.get(key_hash=token_hash(key))
    assert key in issued.content.decode()
    listing = client.get(reverse("branches:token_list"))
    assert "District HR" in listing.content.decode()
    assert key not in listing.content.decode()

    revoked = client.post(reverse("branches:token_revoke", kwargs={"pk": record.pk}))

    assert revoked.status_code == HTTPStatus.FOUND
    assert ApiClient.objects.get(pk=record.pk).revoked_at is not None


def test_token_pages_hide_other_subtrees_and_refuse_secretaries(client, branch_tree, role_at):
    other, _key = token_issue(actor=None, name="Building system", role=Role.SECRETARY, branch=branch_tree["building"])
    officer = role_at(branch_tree["delivery"], Role.OFFICER)
    client.force_login(officer)

    assert "Building system" not in client.get(reverse("branches:token_list")).content.decode()
    assert client.post(reverse("branches:token_revoke", kwargs={"pk": other.pk})).status_code == HTTPStatus.NOT_FOUND
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))
    assert client.get(reverse("branches:token_list")).status_code == HTTPStatus.FORBIDDEN


def test_token_throttle_is_429_with_retry_after(token_client, branch_tree, settings):
    settings.API_TOKEN_THROTTLE_RATE = "2/min"
    client = token_client(branch_tree["delivery"])

    statuses = [client.get(reverse("api:unit-list")).status_code for _ in range(3)]

    assert statuses == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    response = client.get(reverse("api:unit-list"))
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


#
# If-Match
#
def test_token_patch_without_if_match_is_428(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    unit = branch_actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Rider Co")
    url = reverse("api:unit-detail", kwargs={"pk": unit.pk})

    missing = client.patch(url, {"name": "New"}, format="json")
    stale = client.patch(url, {"name": "New"}, format="json", HTTP_IF_MATCH='W/"7"')
    fresh = client.patch(url, {"name": "New"}, format="json", HTTP_IF_MATCH=f'W/"{unit.version}"')

    assert missing.status_code == HTTPStatus.PRECONDITION_REQUIRED
    assert missing.json()["code"] == "precondition_required"
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert stale.json()["current"]["name"] == "Rider Co"
    assert fresh.status_code == HTTPStatus.OK
    assert fresh.json()["name"] == "New"
    assert client.delete(url).status_code == HTTPStatus.PRECONDITION_REQUIRED


def test_session_patch_may_omit_if_match(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["delivery"], Role.OFFICER))
    unit = branch_actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Rider Co")

    response = api_client.patch(reverse("api:unit-detail", kwargs={"pk": unit.pk}), {"name": "New"}, format="json")

    assert response.status_code == HTTPStatus.OK


#
# Idempotency
#
def test_idempotent_post_replay_returns_first_response_and_changes_nothing(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    payload = _unit_payload(branch_tree["station_a"])

    first = client.post(reverse("api:unit-list"), payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    changes = ChangeRecord.objects.count()
    replay = client.post(reverse("api:unit-list"), payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == replay.status_code == HTTPStatus.CREATED
    assert replay.json() == first.json()
    assert replay["ETag"] == first["ETag"]
    assert replay["Location"] == first["Location"]
    assert Unit.objects.filter(name="Rider Co").count() == 1
    assert ChangeRecord.objects.count() == changes


def test_idempotency_key_with_other_body_is_422(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    client.post(
        reverse("api:unit-list"), _unit_payload(branch_tree["station_a"]), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    response = client.post(
        reverse("api:unit-list"),
        _unit_payload(branch_tree["station_a"], name="Other"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Unit.objects.filter(name="Other").exists()


def test_idempotency_replays_errors_and_keys_are_per_caller(token_client, branch_tree):
    one, two = token_client(branch_tree["delivery"]), token_client(branch_tree["delivery"], name="Second")
    bad = {"branch": str(branch_tree["station_a"].pk)}

    first = one.post(reverse("api:unit-list"), bad, format="json", HTTP_IDEMPOTENCY_KEY="same")
    again = one.post(reverse("api:unit-list"), bad, format="json", HTTP_IDEMPOTENCY_KEY="same")
    other = two.post(
        reverse("api:unit-list"), _unit_payload(branch_tree["station_a"]), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )

    assert first.status_code == again.status_code == HTTPStatus.BAD_REQUEST
    assert again.json() == first.json()
    assert other.status_code == HTTPStatus.CREATED


def test_idempotent_delete_replay_is_204_again(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    unit = branch_actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Rider Co")
    url = reverse("api:unit-detail", kwargs={"pk": unit.pk})

    first = client.delete(url, HTTP_IF_MATCH='W/"1"', HTTP_IDEMPOTENCY_KEY="del")
    replay = client.delete(url, HTTP_IF_MATCH='W/"1"', HTTP_IDEMPOTENCY_KEY="del")

    assert first.status_code == replay.status_code == HTTPStatus.NO_CONTENT
    assert replay["Idempotent-Replayed"] == "true"


def test_idempotency_records_are_purged_after_24_hours(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    client.post(
        reverse("api:unit-list"), _unit_payload(branch_tree["station_a"]), format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))

    _changes, keys = feed.sync_records_purge()

    assert keys == 1


#
# Upserts
#
def test_by_ref_creates_updates_and_reports_unchanged(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    url = reverse("api:unit-by-ref", kwargs={"ref": "crm-1"})
    payload = _unit_payload(branch_tree["station_a"])

    created = client.put(url, payload, format="json")
    unchanged = client.put(url, payload, format="json")
    updated = client.put(url, {**payload, "name": "Rider Co Ltd"}, format="json")

    assert created.status_code == HTTPStatus.CREATED
    assert unchanged.status_code == HTTPStatus.OK
    assert unchanged.json()["version"] == 1
    assert updated.status_code == HTTPStatus.OK
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["version"] == 2
    assert updated["ETag"] == 'W/"2"'
    assert Unit.objects.filter(branch=branch_tree["station_a"]).count() == 1


def test_by_ref_references_are_per_client(token_client, branch_tree):
    one, two = token_client(branch_tree["delivery"]), token_client(branch_tree["delivery"], name="Second")
    url = reverse("api:unit-by-ref", kwargs={"ref": "same-ref"})

    a = one.put(url, _unit_payload(branch_tree["station_a"]), format="json")
    b = two.put(url, _unit_payload(branch_tree["station_b"], name="Other Co"), format="json")

    assert a.status_code == b.status_code == HTTPStatus.CREATED
    assert a.json()["id"] != b.json()["id"]


def test_by_ref_with_stale_if_match_is_412(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    url = reverse("api:unit-by-ref", kwargs={"ref": "r"})
    client.put(url, _unit_payload(branch_tree["station_a"]), format="json")

    response = client.put(url, _unit_payload(branch_tree["station_a"], name="X"), format="json", HTTP_IF_MATCH='W/"9"')

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED


def test_bulk_upsert_reports_each_record_and_keeps_good_ones(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    client.put(
        reverse("api:unit-by-ref", kwargs={"ref": "u-0"}),
        _unit_payload(branch_tree["station_a"], name="Zero"),
        format="json",
    )
    records = [
        {**_unit_payload(branch_tree["station_a"], name="Zero"), "external_ref": "u-0"},
        {**_unit_payload(branch_tree["station_a"], name="One"), "external_ref": "u-1"},
        {"branch": str(branch_tree["station_a"].pk), "external_ref": "u-2"},
        {**_unit_payload(branch_tree["building"], name="Outside"), "external_ref": "u-3"},
    ]

    response = client.post(reverse("api:unit-bulk-upsert"), {"records": records, "atomic": False}, format="json")

    assert response.status_code == HTTPStatus.OK
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert [r["status"] for r in results] == ["unchanged", "created", "error", "error"]
    assert results[1]["version"] == 1
    assert results[1]["id"]
    assert "name" in results[2]["errors"]
    assert response.json()["committed"] is True
    assert set(Unit.objects.values_list("name", flat=True)) == {"Zero", "One"}


def test_bulk_upsert_atomic_rolls_back_everything_on_one_error(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    records = [
        {**_unit_payload(branch_tree["station_a"], name="One"), "external_ref": "a-1"},
        {"branch": str(branch_tree["station_a"].pk), "external_ref": "a-2"},
    ]
    changes = ChangeRecord.objects.count()

    response = client.post(reverse("api:unit-bulk-upsert"), {"records": records, "atomic": True}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["committed"] is False
    assert [r["status"] for r in response.json()["results"]] == ["error", "error"]
    assert not Unit.objects.filter(name="One").exists()
    assert ChangeRecord.objects.count() == changes
    retry = client.put(
        reverse("api:unit-by-ref", kwargs={"ref": "a-1"}), _unit_payload(branch_tree["station_a"]), format="json"
    )
    assert retry.status_code == HTTPStatus.CREATED


def test_bulk_upsert_members_goes_through_the_members_actions(token_client, branch_tree):
    client = token_client(branch_tree["delivery"], Role.SECRETARY)
    record = {
        "external_ref": "hr-1",
        "branch": str(branch_tree["station_a"].pk),
        "name": "张三",
        "citizen_id": make_citizen_id(1),
        "category": "full",
        "joined_on": "2015-07-01",
    }

    response = client.post(reverse("api:member-bulk-upsert"), {"records": [record], "atomic": True}, format="json")

    assert response.json()["results"][0]["status"] == "created", response.json()
    member = Member.objects.get(pk=response.json()["results"][0]["id"])
    assert member.citizen_id == make_citizen_id(1)
    assert AuditEntry.objects.filter(action="members.member.created", object_id=str(member.pk)).exists()


#
# The change feed
#
def test_feed_snapshot_then_changes_then_nothing(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    unit = branch_actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Rider Co")
    branch_actions.unit_create(actor=None, branch=branch_tree["building"], name="Elsewhere")

    snapshot, cursor = _feed_all(client, limit=2)

    got = {(r["type"], r["id"]) for r in snapshot}
    assert ("unit", str(unit.pk)) in got
    assert ("branch", str(branch_tree["delivery"].pk)) in got
    assert ("branch", str(branch_tree["building"].pk)) not in got
    assert all(r["op"] == "upsert" for r in snapshot)

    branch_actions.unit_update(actor=None, unit=unit, name="Rider Co Ltd")
    changes, cursor = _feed_all(client, cursor=cursor)
    assert [(r["type"], r["id"], r["op"], r["version"], r["data"]["name"]) for r in changes] == [
        ("unit", str(unit.pk), "upsert", 2, "Rider Co Ltd")
    ]
    again, _cursor = _feed_all(client, cursor=cursor)
    assert again == []


def test_feed_data_is_the_detail_representation(token_client, branch_tree):
    client = token_client(branch_tree["delivery"], Role.SECRETARY)
    unit = branch_actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Rider Co")

    results, _cursor = _feed_all(client, types="unit")
    detail = client.get(reverse("api:unit-detail", kwargs={"pk": unit.pk})).json()

    # The snapshot entry; on PostgreSQL changes of transactions still open at its start follow (replays).
    assert results[0] == {"seq": "", "type": "unit", "id": str(unit.pk), "op": "upsert", "version": 1, "data": detail}
    assert all(r["data"] == detail for r in results)


def test_feed_types_filter_and_limit_validation(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    MemberFactory(branch=branch_tree["station_a"])

    members, _cursor = _feed_all(client, types="member")

    assert {r["type"] for r in members} == {"member"}
    assert client.get(reverse("api:sync-changes"), {"types": "nope"}).status_code == HTTPStatus.BAD_REQUEST
    assert client.get(reverse("api:sync-changes"), {"limit": 501}).status_code == HTTPStatus.BAD_REQUEST
    bad = client.get(reverse("api:sync-changes"), {"cursor": "garbage!"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json()["code"] == "validation_error"


def test_feed_members_are_masked_for_organisers_and_audited_when_full(token_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    organiser = token_client(branch_tree["delivery"], Role.ORGANISER)
    secretary = token_client(branch_tree["delivery"], Role.SECRETARY, name="HR")

    masked = _feed_all(organiser, types="member")[0][0]["data"]
    full = _feed_all(secretary, types="member")[0][0]["data"]

    assert masked["citizen_id"] != member.citizen_id
    assert masked["sensitive_masked"] is True
    assert full["citizen_id"] == member.citizen_id
    assert AuditEntry.objects.filter(
        action="members.member.id_viewed", object_id=str(member.pk), actor=secretary.api_client.user
    ).exists()


def test_feed_caseworker_sees_no_members(token_client, branch_tree):
    MemberFactory(branch=branch_tree["station_a"])
    client = token_client(branch_tree["delivery"], Role.CASEWORKER)

    results, _cursor = _feed_all(client)

    assert "member" not in {r["type"] for r in results}


def test_feed_tombstone_for_delete(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    unit = branch_actions.unit_create(actor=None, branch=branch_tree["station_a"], name="Rider Co")
    _snapshot, cursor = _feed_all(client, types="unit")

    branch_actions.unit_delete(actor=None, unit=unit)
    changes, _cursor = _feed_all(client, cursor=cursor, types="unit")

    assert [(r["id"], r["op"], r["data"]) for r in changes] == [(str(unit.pk), "delete", None)]


def test_feed_remove_when_member_is_transferred_out_of_scope(token_client, branch_tree):
    from members.actions import member_update

    client = token_client(branch_tree["delivery"], Role.SECRETARY)
    outsider = token_client(branch_tree["building"], Role.SECRETARY, name="Building")
    member = MemberFactory(branch=branch_tree["station_a"])
    _snapshot, cursor = _feed_all(client, types="member")
    _snap2, outsider_cursor = _feed_all(outsider, types="member")

    member_update(actor=None, member=member, branch=branch_tree["building"])
    changes, _cursor = _feed_all(client, cursor=cursor, types="member")
    arrived, _cursor = _feed_all(outsider, cursor=outsider_cursor, types="member")

    assert [(r["id"], r["op"], r.get("reason")) for r in changes] == [(str(member.pk), "remove", "out_of_scope")]
    assert [(r["id"], r["op"]) for r in arrived] == [(str(member.pk), "upsert")]


def test_feed_remove_for_a_whole_subtree_moved_away(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    unrelated = token_client(branch_tree["station_b"], name="Station B app")
    member = MemberFactory(branch=branch_tree["station_a"])
    child = branch_actions.branch_create(
        actor=None, parent=branch_tree["station_a"], name="Group 1", kind="group", basis="platform"
    )
    _snapshot, cursor = _feed_all(client)
    _snap_b, cursor_b = _feed_all(unrelated)

    branch_actions.branch_move(actor=None, branch=branch_tree["station_a"], new_parent=branch_tree["building"])
    changes, _cursor = _feed_all(client, cursor=cursor)
    seen_by_b, _cursor = _feed_all(unrelated, cursor=cursor_b)

    removed = {(r["type"], r["id"]) for r in changes if r["op"] == "remove"}
    assert {
        ("branch", str(branch_tree["station_a"].pk)),
        ("branch", str(child.pk)),
        ("member", str(member.pk)),
    } <= removed
    assert not [r for r in changes if r["op"] == "upsert" and r["id"] in {str(member.pk), str(child.pk)}]
    assert seen_by_b == []


def test_feed_subtree_moved_in_arrives_as_upserts(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    member = MemberFactory(branch=branch_tree["building"])
    _snapshot, cursor = _feed_all(client)

    branch_actions.branch_move(actor=None, branch=branch_tree["building"], new_parent=branch_tree["delivery"])
    changes, _cursor = _feed_all(client, cursor=cursor)

    assert {(r["type"], r["id"], r["op"]) for r in changes} >= {
        ("branch", str(branch_tree["building"].pk), "upsert"),
        ("member", str(member.pk), "upsert"),
    }


def test_feed_old_cursor_is_410_and_purge_deletes_old_records(token_client, branch_tree, settings):
    client = token_client(branch_tree["delivery"])
    _snapshot, cursor = _feed_all(client)
    state = feed.decode_cursor(cursor)
    too_old = int(time.time()) - (settings.SYNC_FEED_RETENTION_DAYS + 1) * 86400
    stale = feed.base64.urlsafe_b64encode(feed.json.dumps({**state, "t": too_old}).encode()).decode()

    response = client.get(reverse("api:sync-changes"), {"cursor": stale})

    assert response.status_code == HTTPStatus.GONE
    assert response.json()["code"] == "resync_required"
    ChangeRecord.objects.update(at=timezone.now() - datetime.timedelta(days=settings.SYNC_FEED_RETENTION_DAYS + 2))
    changes, _keys = feed.sync_records_purge()
    assert changes > 0
    assert not ChangeRecord.objects.exists()


def test_feed_requires_authentication(api_client):
    response = api_client.get(reverse("api:sync-changes"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_feed_snapshot_page_query_count_is_flat(token_client, branch_tree, django_assert_max_num_queries):
    client = token_client(branch_tree["delivery"], Role.SECRETARY)
    for _ in range(5):
        MemberFactory(branch=branch_tree["station_a"])
    Branch.objects.count()

    with django_assert_max_num_queries(20):
        client.get(reverse("api:sync-changes"), {"types": "member", "limit": 50})


def test_idempotency_duplicate_while_first_runs_is_409(token_client, branch_tree):
    client = token_client(branch_tree["delivery"])
    payload = _unit_payload(branch_tree["station_a"])
    client.post(reverse("api:unit-list"), payload, format="json", HTTP_IDEMPOTENCY_KEY="busy")
    IdempotencyRecord.objects.filter(key="busy").update(status=None, body=None)  # as if still running

    response = client.post(reverse("api:unit-list"), payload, format="json", HTTP_IDEMPOTENCY_KEY="busy")

    assert response.status_code == HTTPStatus.CONFLICT
    assert Unit.objects.filter(name="Rider Co").count() == 1


def test_feed_carries_transfers_in_scope(token_client, branch_tree):
    from members.actions.transfers import transfer_create

    member = MemberFactory(branch=branch_tree["station_a"])
    transfer = transfer_create(actor=None, member=member, to_outside="Another province")
    client = token_client(branch_tree["delivery"], Role.SECRETARY)
    outsider = token_client(branch_tree["building"], Role.SECRETARY, name="Building")

    results, _cursor = _feed_all(client, types="transfer")
    detail = client.get(reverse("api:transfer-detail", kwargs={"pk": transfer.pk})).json()

    assert results[0] == {
        "seq": "",
        "type": "transfer",
        "id": str(transfer.pk),
        "op": "upsert",
        "version": transfer.version,
        "data": detail,
    }
    assert _feed_all(outsider, types="transfer")[0] == []


def test_feed_carries_applicants_and_dues_payments_in_scope(token_client, branch_tree, role_at):
    from tests.members.dev_helpers import new_applicant, seeded
    from tests.members.test_dues_actions import THIS_MONTH, assessed, pay

    seeded()  # the dues brackets and development intervals (flushed by transactional tests)
    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    applicant = new_applicant(actor=secretary, branch=branch_tree["station_a"])
    member = MemberFactory(branch=branch_tree["station_a"], joined_on=datetime.date(2015, 7, 1))
    assessed(member, secretary)
    payment = pay(member, secretary, THIS_MONTH)
    other = new_applicant(actor=None, branch=branch_tree["building"], n=2)

    results, _cursor = _feed_all(token_client(branch_tree["delivery"], Role.SECRETARY), types="applicant,dues_payment")
    outside, _cursor = _feed_all(token_client(branch_tree["building"], Role.SECRETARY), types="applicant")

    got = {(r["type"], r["id"]) for r in results}
    assert ("applicant", str(applicant.pk)) in got
    assert ("dues_payment", str(payment.pk)) in got
    assert ("applicant", str(other.pk)) not in got
    assert {r["id"] for r in outside} == {str(other.pk)}


def test_feed_carries_notices_in_scope(token_client, branch_tree, role_at):
    from members.actions.notices import notice_create

    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    notice = notice_create(actor=secretary, branch=branch_tree["station_a"], title="Meeting decision")
    other = notice_create(actor=None, branch=branch_tree["building"], title="Elsewhere")

    results, _cursor = _feed_all(token_client(branch_tree["delivery"], Role.SECRETARY), types="notice")

    # on PostgreSQL a snapshot may be followed by replays of its own records: compare as a set
    assert {(r["type"], r["id"], r["data"]["title"]) for r in results} == {
        ("notice", str(notice.pk), "Meeting decision")
    }
    assert str(other.pk) not in {r["id"] for r in results}


def test_feed_carries_votes_in_scope(token_client, branch_tree, role_at):
    from members.actions.votes import vote_create

    secretary = role_at(branch_tree["station_a"], Role.SECRETARY)
    opens = timezone.now() + datetime.timedelta(hours=1)
    vote = vote_create(
        actor=secretary,
        branch=branch_tree["station_a"],
        kind="decision",
        title="Adopt the plan",
        opens_at=opens,
        closes_at=opens + datetime.timedelta(days=1),
    )

    inside, _cursor = _feed_all(token_client(branch_tree["delivery"], Role.SECRETARY), types="vote")
    outside, _cursor = _feed_all(token_client(branch_tree["building"], Role.SECRETARY), types="vote")

    assert {(r["type"], r["id"], r["data"]["title"]) for r in inside} == {("vote", str(vote.pk), "Adopt the plan")}
    assert outside == []


def test_feed_carries_appraisal_rounds_as_the_api_shows_them(token_client, branch_tree):
    from members.actions import appraisal as appraisal_actions
    from tests.appraisal.helpers import make_round, member_with_user

    member_with_user(branch_tree["station_a"])
    member_with_user(branch_tree["building"])
    appraisal_round = make_round(branch_tree["station_a"])
    appraisal_actions.appraisal_rating_close(actor=None, appraisal_round=appraisal_round)
    other = make_round(branch_tree["building"])
    client = token_client(branch_tree["delivery"], Role.SECRETARY)
    organiser = token_client(branch_tree["delivery"], Role.ORGANISER, name="Organiser")  # no members.change

    inside, _cursor = _feed_all(client, types="appraisal_round")
    detail = client.get(reverse("api:appraisal-round-detail", kwargs={"pk": appraisal_round.pk})).json()
    building = token_client(branch_tree["building"], Role.SECRETARY, name="Building")
    outside, _cursor = _feed_all(building, types="appraisal_round")
    hidden, _cursor = _feed_all(organiser, types="appraisal_round")

    # on PostgreSQL a snapshot may be followed by replays of its own records: compare as a set
    assert {(r["type"], r["id"], r["op"]) for r in inside} == {("appraisal_round", str(appraisal_round.pk), "upsert")}
    assert all(r["data"] == detail for r in inside)
    assert detail["status"] == "rating_closed"
    assert {r["id"] for r in outside} == {str(other.pk)}
    assert hidden == []  # not even ids: the feed scopes rounds by the pages' permission (members.change)
