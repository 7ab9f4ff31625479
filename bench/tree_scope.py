"""Benchmark of the organisation tree: scope checks, subtree reads, a subtree move, and the branch API list.

    .venv/bin/python bench/tree_scope.py --branches 100000 [--runs 15] [--seed 1]

Uses DATABASE_URL when set, otherwise a throwaway SQLite file, var/bench.sqlite3. Builds the tree with
`seed_demo --branches N` (its bulk path; a second run reuses the rows) and prints, for each figure, the
median, fastest and slowest of the runs and the number of SQL queries. No assertions: it measures.
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _configure() -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        (ROOT / "var").mkdir(exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # no per-query logging outside what we capture
    # WhiteNoise warns about a missing STATIC_ROOT when the test client builds its handler; irrelevant here.
    warnings.filterwarnings("ignore", message="No directory at")

    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name, and e-mail kept in memory


class Figures:
    """Collects timings and query counts and prints them as a table."""

    def __init__(self, runs: int):
        self.runs = runs
        self.rows: list[tuple[str, float, float, float, str]] = []

    def measure(self, label: str, fn: Callable[[], object], *, before: Callable[[], object] | None = None) -> object:
        """Run `fn` `runs` times (after `before`, untimed); keep the median, range and query counts."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        times, queries, result = [], set(), None
        for _ in range(self.runs):
            if before is not None:
                before()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                result = fn()
                times.append((time.perf_counter() - started) * 1000)
            queries.add(len(captured))
        counts = "/".join(str(q) for q in sorted(queries))
        self.rows.append((label, statistics.median(times), min(times), max(times), counts))
        return result

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"\n{'figure':<{width}}  {'median ms':>10}  {'min ms':>9}  {'max ms':>9}  queries")
        for label, median, low, high, counts in self.rows:
            print(f"{label:<{width}}  {median:>10.3f}  {low:>9.3f}  {high:>9.3f}  {counts}")


def _officer(username: str, branch):
    """A user with the officer role at `branch` and TOTP set up, as officers must have."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from branches.actions import role_grant
    from core.models import User

    user, _created = User.objects.get_or_create(username=username, defaults={"display_name": username})
    role_grant(actor=None, user=user, role="officer", branch=branch)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return User.objects.get(pk=user.pk)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=100_000, help="organisations in the generated tree")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated tree")
    parser.add_argument("--runs", type=int, default=15, help="runs per figure (the median is printed)")
    args = parser.parse_args()
    _configure()

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from branches.actions import branch_move
    from branches.models import Branch
    from branches.permissions import branch_scope, clear_scope_cache, in_scope

    settings_db = connection.settings_dict
    print(f"database: {connection.vendor} {settings_db.get('NAME')}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", branches=args.branches, seed=args.seed, stdout=quiet)
    print(f"seed_demo --branches {args.branches}: tree built or reused in {time.perf_counter() - started:.1f} s")

    district = Branch.objects.get(external_ref="demo:district")
    areas = list(Branch.objects.filter(parent=district, kind="committee", external_ref__isnull=True))
    sizes = {a.pk: Branch.objects.subtree_of(a).count() for a in areas}
    area = max(areas, key=lambda a: sizes[a.pk])  # Y: the largest area committee
    # Where Y moves to and back from: another area committee (or the demo's industry committee).
    other = next((a for a in areas if a.pk != area.pk), None) or Branch.objects.get(external_ref="demo:delivery")
    deepest = Branch.objects.subtree_of(area).order_by("-depth", "path").first()  # X: a deepest node under Y
    outside = Branch.objects.subtree_of(other).order_by("-depth", "path").first()
    total = Branch.objects.count()
    print(
        f"{total} organisations; Y = {area.name} ({sizes[area.pk]} under it, depth {area.depth}); "
        f"X at depth {deepest.depth}; {len(areas)} area committees"
    )

    district_officer = _officer("bench_officer", district)
    area_officer = _officer("bench_area_officer", area)
    figures = Figures(args.runs)

    # "Is X under Y": the scope check every write makes.
    figures.measure("is X under Y: Branch.is_under (no query)", lambda: deepest.is_under(area))
    in_scope(area_officer, "branches.change", deepest)  # reads the grants once; later calls use them
    figures.measure(
        "is X under Y: in_scope, grants cached", lambda: in_scope(area_officer, "branches.change", deepest)
    )
    figures.measure(
        "is X under Y: in_scope, grants read",
        lambda: in_scope(area_officer, "branches.change", outside),
        before=lambda: clear_scope_cache(area_officer),
    )

    # "All branches under Y": the scope queryset, counted.
    figures.measure(
        f"all under Y ({sizes[area.pk]}): branch_scope + count",
        lambda: branch_scope(area_officer, "branches.view").count(),
        before=lambda: clear_scope_cache(area_officer),
    )
    figures.measure(
        f"all under district ({total - 1}): branch_scope + count",
        lambda: branch_scope(district_officer, "branches.view").count(),
        before=lambda: clear_scope_cache(district_officer),
    )
    figures.measure(
        f"subtree of Y ({sizes[area.pk]}): ids fetched",
        lambda: len(list(Branch.objects.subtree_of(area).values_list("pk", flat=True))),
    )

    # A move of the large subtree, there and back (each direction is one sample).
    def move_once():
        current = Branch.objects.get(pk=area.pk)
        target = district if current.parent_id == other.pk else other
        branch_move(actor=district_officer, branch=current, new_parent=target)

    figures.measure(f"move Y's subtree ({sizes[area.pk]} rows), officer", move_once)
    if Branch.objects.get(pk=area.pk).parent_id != district.pk:
        move_once()

    # The branch API's list page, as an officer with TOTP over the whole generated tree.
    client = Client()
    client.force_login(district_officer)
    url = reverse("api:branch-list")

    def get(query: str = ""):
        response = client.get(url + query)
        if response.status_code != 200:
            raise SystemExit(f"{url}{query} answered {response.status_code}: {response.content[:300]!r}")
        return response

    first_page = get()
    cursor = first_page.json()["next"]
    figures.measure("API list, first page of 50", get)
    if cursor:
        figures.measure("API list, next page of 50", lambda: client.get(cursor))
    figures.measure(f"API list, ?branch=Y page of 50 ({sizes[area.pk]} under Y)", lambda: get(f"?branch={area.pk}"))

    print(f"\nmedian of {args.runs} runs")
    figures.print()
    kinds = dict(Branch.objects.values_list("kind").annotate(n=Count("pk")))
    print(f"\nkinds: {kinds}")


if __name__ == "__main__":
    main()
