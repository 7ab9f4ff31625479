"""The feed's promise under concurrency, on PostgreSQL: no change is skipped when transactions commit out of order.

These tests need real concurrent transactions (threads with their own connections), which SQLite's
single writer cannot show; CI runs them on PostgreSQL.
"""

import random
import threading
import time
from http import HTTPStatus

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from branches import actions as branch_actions
from branches.choices import Role
from branches.models import Unit
from branches.tokens import token_issue
from core.models import ChangeRecord

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"),
]

WAIT = 30


def _client(branch):
    _record, key = token_issue(actor=None, name="Mirror", role=Role.OFFICER, branch=branch)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _poll(client, cursor, types="unit"):
    results = []
    while True:
        response = client.get(reverse("api:sync-changes"), {"cursor": cursor, "types": types, "limit": 500})
        assert response.status_code == HTTPStatus.OK, response.content
        body = response.json()
        results.extend(body["results"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return results, cursor


def _poll_until(client, cursor, done, types="unit"):
    """Poll until `done(results)`: another transaction on the server (even in another database of the
    cluster) holds the feed back while it runs, so a change may take a moment to be served."""
    results = []
    deadline = time.monotonic() + WAIT
    while True:
        more, cursor = _poll(client, cursor, types)
        results += more
        if done(results) or time.monotonic() > deadline:
            return results, cursor
        time.sleep(0.05)


def _snapshot(client, types="unit"):
    response = client.get(reverse("api:sync-changes"), {"types": types, "limit": 500})
    body = response.json()
    results, cursor = body["results"], body["next_cursor"]
    if body["has_more"]:
        more, cursor = _poll(client, cursor, types)
        results += more
    return results, cursor


def _in_thread(target):
    errors = []

    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_feed_never_skips_a_transaction_that_took_a_lower_seq_and_committed_later(branch_tree):
    """B takes its xid first, A then writes (lower seq), B writes and commits, a reader polls, then A commits."""
    station = branch_tree["station_a"]
    client = _client(branch_tree["delivery"])
    _records, cursor = _snapshot(client)
    b_has_xid, a_wrote, b_committed, a_may_commit = (threading.Event() for _ in range(4))
    seqs = {}

    def writer_a():
        assert b_has_xid.wait(WAIT)
        with transaction.atomic():
            unit = branch_actions.unit_create(actor=None, branch=station, name="Written by A")
            seqs["a"] = ChangeRecord.objects.filter(object_id=unit.pk).get().seq
            a_wrote.set()
            assert a_may_commit.wait(WAIT)

    def writer_b():
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT pg_current_xact_id()")  # B's transaction id is now older than A's
            b_has_xid.set()
            assert a_wrote.wait(WAIT)
            unit = branch_actions.unit_create(actor=None, branch=station, name="Written by B")
            seqs["b"] = ChangeRecord.objects.filter(object_id=unit.pk).get().seq
        b_committed.set()

    thread_a, errors_a = _in_thread(writer_a)
    thread_b, errors_b = _in_thread(writer_b)
    try:
        assert b_committed.wait(WAIT), errors_b
        seen_between, cursor = _poll_until(client, cursor, lambda results: results)
    finally:
        a_may_commit.set()
        thread_a.join(WAIT)
        thread_b.join(WAIT)
    assert errors_a + errors_b == []
    seen_after, cursor = _poll_until(client, cursor, lambda results: results)

    assert seqs["a"] < seqs["b"]  # A holds the lower seq and committed last
    assert [r["data"]["name"] for r in seen_between] == ["Written by B"]
    names = {r["data"]["name"] for r in seen_between + seen_after}
    assert names == {"Written by A", "Written by B"}


def test_feed_holds_back_changes_behind_a_running_transaction(branch_tree):
    """A writes first (lower xid and seq) and stays open; B commits; the reader gets B only after A ends."""
    station = branch_tree["station_a"]
    client = _client(branch_tree["delivery"])
    _records, cursor = _snapshot(client)
    a_wrote, a_may_commit = threading.Event(), threading.Event()

    def writer_a():
        with transaction.atomic():
            branch_actions.unit_create(actor=None, branch=station, name="Slow A")
            a_wrote.set()
            assert a_may_commit.wait(WAIT)

    thread_a, errors_a = _in_thread(writer_a)
    try:
        assert a_wrote.wait(WAIT)
        branch_actions.unit_create(actor=None, branch=station, name="Quick B")
        held, cursor = _poll(client, cursor)
    finally:
        a_may_commit.set()
        thread_a.join(WAIT)
    assert not errors_a
    released, _cursor = _poll_until(client, cursor, lambda results: len(results) >= 2)

    assert held == []
    assert [r["data"]["name"] for r in released] == ["Slow A", "Quick B"]


def test_feed_racing_writers_and_a_polling_reader_miss_nothing(branch_tree):
    """Several writers update units at random while a reader polls; the reader ends with every last version."""
    station = branch_tree["station_a"]
    units = [branch_actions.unit_create(actor=None, branch=station, name=f"Unit {i}") for i in range(6)]
    client = _client(branch_tree["delivery"])
    mirror = {}
    records, cursor = _snapshot(client)
    for r in records:
        mirror[r["id"]] = r["version"]
    stop = threading.Event()

    def writer(seed):
        rng = random.Random(seed)
        for n in range(25):
            with transaction.atomic():
                unit = Unit.objects.select_for_update().get(pk=rng.choice(units).pk)
                branch_actions.unit_update(actor=None, unit=unit, name=f"{unit.name[:20]} {seed}.{n}")
                if rng.random() < 0.3:
                    stop.wait(rng.random() / 50)  # hold the transaction open a little: commits interleave

    threads = [_in_thread(lambda s=s: writer(s)) for s in range(4)]
    while any(t.is_alive() for t, _errors in threads):
        changes, cursor = _poll(client, cursor)
        for r in changes:
            mirror[r["id"]] = max(mirror.get(r["id"], 0), r["version"])
    for thread, errors in threads:
        thread.join(WAIT)
        assert not errors, errors
    final = {str(u.pk): u.version for u in Unit.objects.filter(branch=station)}
    changes, cursor = _poll_until(
        client,
        cursor,
        lambda results: all(
            any(r["id"] == k and r["version"] == v for r in results) for k, v in final.items() if mirror.get(k) != v
        ),
    )
    for r in changes:
        mirror[r["id"]] = max(mirror.get(r["id"], 0), r["version"])

    assert mirror == {str(u.pk): u.version for u in Unit.objects.filter(branch=station)}
