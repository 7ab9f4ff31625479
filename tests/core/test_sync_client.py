"""The reference client (examples/sync_client.py) mirrors a branch exactly while other threads write."""

import importlib.util
import random
import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from branches import actions as branch_actions
from branches.choices import Role
from branches.models import Unit
from branches.tokens import token_issue
from members.actions import member_update
from members.models import Member
from tests.members.factories import MemberFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent writers and a live server need PostgreSQL"
    ),
]

_spec = importlib.util.spec_from_file_location(
    "sync_client", Path(__file__).resolve().parents[2] / "examples" / "sync_client.py"
)
sync_client = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync_client)

#: the feed's resource types and their list endpoints
LISTS = {"branch": "branches", "unit": "units", "member": "members", "activity": "activities", "worker": "workers"}


def _server_records(key) -> dict:
    """Every record the token sees now, through the list endpoints, as the mirror keys them."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    records = {}
    for kind, path in LISTS.items():
        url = f"/api/v1/{path}/?page_size=500"
        while url:
            body = client.get(url).json()
            for row in body["results"]:
                records[(kind, row["id"])] = row
            url = body["next"]
    return records


def _comparable(records: dict) -> dict:
    # A branch's `warnings` are derived from other records (member and unit counts) and carry no
    # version of their own: the feed does not resend a branch when they change, so they are left out.
    return {k: {f: v for f, v in r.items() if not (k[0] == "branch" and f == "warnings")} for k, r in records.items()}


def test_reference_client_mirrors_the_scope_while_others_write(live_server, branch_tree, tmp_path):
    station_a, station_b = branch_tree["station_a"], branch_tree["station_b"]
    units = [branch_actions.unit_create(actor=None, branch=station_a, name=f"Unit {i}") for i in range(4)]
    members = [MemberFactory(branch=station_b) for _ in range(3)]
    _record, key = token_issue(actor=None, name="Mirror", role=Role.OFFICER, branch=branch_tree["delivery"])
    client = sync_client.SyncClient(live_server.url, key, str(tmp_path / "mirror.sqlite"), types=",".join(LISTS))
    client.sync_once()
    errors = []

    def writer(seed):
        rng = random.Random(seed)
        try:
            for n in range(15):
                with transaction.atomic():
                    unit = Unit.objects.select_for_update().get(pk=rng.choice(units[:3]).pk)
                    branch_actions.unit_update(actor=None, unit=unit, name=f"Unit {seed}.{n}")
                if n == 5 and seed == 0:
                    member = Member.objects.get(pk=members[0].pk)
                    member_update(actor=None, member=member, branch=branch_tree["building"])  # leaves the scope
                if n == 7 and seed == 1:
                    branch_actions.unit_delete(actor=None, unit=Unit.objects.get(pk=units[3].pk))
                if n == 9:
                    MemberFactory(branch=station_a)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        client.sync_once()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = _comparable(_server_records(key))
    for _attempt in range(50):  # a transaction elsewhere on the server may hold the feed back a moment
        client.sync_once()
        if _comparable(client.records()) == expected:
            break

    mirrored = _comparable(client.records())
    assert set(mirrored) == set(expected)
    for record_key, fields in expected.items():
        assert mirrored[record_key] == fields, record_key
    assert ("member", str(members[0].pk)) not in mirrored
    assert ("unit", str(units[3].pk)) not in mirrored
