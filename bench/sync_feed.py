"""Change-feed timings at 100,000 members: snapshot rate and 1,000 incremental changes.

Usage (a throwaway PostgreSQL database; filled on the first run by bench/members_api.py's builder):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_members_bench .venv/bin/python bench/sync_feed.py

Prints the snapshot rate of GET /api/v1/sync/changes/?types=member (pages of 500, token clients at the
top of the tree: an organiser, who sees masked values, and a secretary, whose full views are audited row
by row), then the time to fetch 1,000 incremental changes after 1,000 member updates.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "False")  # no per-query logging while timing

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.members_api import fill  # noqa: E402
from branches.models import Branch  # noqa: E402
from branches.tokens import token_issue  # noqa: E402
from members.actions import member_update  # noqa: E402
from members.models import Member  # noqa: E402


def follow(client: APIClient, cursor: str | None) -> tuple[int, str, int]:
    """Follow the feed until has_more is false: (records, last cursor, requests)."""
    records = requests = 0
    while True:
        params = {"types": "member", "limit": 500}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/api/v1/sync/changes/", params)
        assert response.status_code == 200, response.content[:500]
        body = response.json()
        records += len(body["results"])
        requests += 1
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return records, cursor, requests


def token_client(role: str, branch: Branch) -> APIClient:
    _client, key = token_issue(actor=None, name=f"bench {role}", role=role, branch=branch)
    client = APIClient(HTTP_HOST="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; set DATABASE_URL=postgres://… for meaningful figures", file=sys.stderr)
    call_command("migrate", verbosity=0)
    if Member.objects.count() < args.members:
        if Member.all_objects.exists():
            sys.exit("The database holds a different number of members: use an empty (throwaway) database.")
        fill(args.members)
    settings.API_TOKEN_THROTTLE_RATE = "100000/min"
    root = Branch.objects.get(name="Bench district committee", parent__isnull=True)
    print(f"{Member.objects.count():,} members")

    cursors = {}
    for role in ("organiser", "secretary"):
        client = token_client(role, root)
        started = time.perf_counter()
        records, cursor, requests = follow(client, None)
        elapsed = time.perf_counter() - started
        cursors[role] = (client, cursor)
        print(
            f"snapshot as {role:9}: {records:,} records in {elapsed:.1f} s "
            f"({records / elapsed:,.0f} records/s, {requests} requests)"
        )

    members = list(Member.objects.order_by("?")[: args.changes])
    started = time.perf_counter()
    for i, member in enumerate(members):
        member_update(actor=None, member=member, job_title=f"bench change {time.time():.0f}-{i}")
    print(f"{len(members):,} member updates written in {time.perf_counter() - started:.1f} s")
    for role, (client, cursor) in cursors.items():
        started = time.perf_counter()
        records, cursor, requests = follow(client, cursor)
        elapsed = time.perf_counter() - started
        print(f"incremental as {role:9}: {records:,} changes in {elapsed * 1000:.0f} ms ({requests} requests)")


if __name__ == "__main__":
    main()
