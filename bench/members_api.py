"""Member-list API timings at 100,000 members.

Usage (a throwaway PostgreSQL database; it is migrated and filled on the first run):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_members_bench .venv/bin/python bench/members_api.py
    ... --members 100000 --repeat 20 --explain

Members are written with bulk_create, computing in Python what the actions compute on a single write
(ciphertexts, keyed hash, masks, pinyin keys), plus the platform links, the change records and the
branch counters. It then prints the median time of GET /api/v1/members/ for a page of 50, unfiltered
and filtered, for a secretary at the top of the tree (full values: each row audited) and an organiser
(masked values). `--explain` prints PostgreSQL's plan for the page queries of the filtered lists.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "False")  # no per-query logging while timing

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from branches import actions as branch_actions  # noqa: E402
from branches.choices import BranchKind  # noqa: E402
from branches.models import Branch  # noqa: E402
from core.models import ChangeRecord, User  # noqa: E402
from members.choices import MemberCategory, MemberStatus, Occupation  # noqa: E402
from members.models import Member, Platform, sensitive_columns  # noqa: E402
from members.pinyin import name_keys  # noqa: E402

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宇浩然博文思雨欣怡晨阳佳琪子轩梓涵一诺"
REGIONS = ["110101", "110105", "310101", "310104", "440106", "440305", "330106", "510104", "420106", "320102"]
BIRTH_BASE = datetime.date(1965, 1, 1)


def citizen_id(i: int) -> str:
    """A valid, unique ID number for the i-th member (unique birth day and sequence per i)."""
    born = BIRTH_BASE + datetime.timedelta(days=i % 12000)
    sequence = (i // 12000) * 2 + random.randint(0, 1)
    body = f"{REGIONS[i % len(REGIONS)]}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def build_tree(committees: int, branches_per: int):
    root = branch_actions.branch_create(
        actor=None, parent=None, name="Bench district committee", kind=BranchKind.COMMITTEE, basis="area"
    )
    leaves = []
    for c in range(committees):
        committee = branch_actions.branch_create(
            actor=None, parent=root, name=f"Committee {c}", kind=BranchKind.COMMITTEE, basis="platform"
        )
        for b in range(branches_per):
            leaves.append(
                branch_actions.branch_create(
                    actor=None, parent=committee, name=f"Station {c}-{b}", kind=BranchKind.BRANCH, basis="platform"
                )
            )
    return root, leaves


def fill(total: int) -> None:
    random.seed(7)
    started = time.perf_counter()
    root, leaves = build_tree(committees=20, branches_per=50)
    units = [branch_actions.unit_create(actor=None, branch=leaves[i * 5], name=f"Bench unit {i}") for i in range(200)]
    platforms = list(Platform.objects.all())
    occupations = Occupation.values
    print(f"tree of {len(leaves) + 21} branches and {len(units)} units in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    through = Member.platforms.through
    batch_size = 2000
    deltas: dict = {}
    for offset in range(0, total, batch_size):
        members, links = [], []
        for i in range(offset, min(offset + batch_size, total)):
            number = citizen_id(i)
            name = random.choice(SURNAMES) + "".join(random.choices(GIVEN, k=random.randint(1, 2)))
            pinyin, initials = name_keys(name)
            phone = f"1{random.choice('3456789')}{random.randint(0, 999_999_999):09d}"
            full = random.random() < 0.85
            branch = leaves[i % len(leaves)]
            member = Member(
                branch=branch,
                name=name,
                name_pinyin=pinyin,
                name_initials=initials,
                sex="male" if int(number[16]) % 2 else "female",
                birth_date=datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                category=MemberCategory.FULL if full else MemberCategory.PROBATIONARY,
                joined_on=datetime.date(2010, 1, 1) + datetime.timedelta(days=i % 4000),
                status=MemberStatus.NORMAL,
                occupation=random.choice(occupations),
                unit=random.choice(units) if random.random() < 0.5 else None,
                version=1,
                **sensitive_columns(citizen_id=number, phone=phone),
            )
            members.append(member)
            links.extend(
                through(member_id=member.pk, platform_id=p.pk) for p in random.sample(platforms, random.randint(0, 2))
            )
            count = deltas.setdefault(branch.pk, [0, 0])
            count[0] += 1
            count[1] += 1 if full else 0
        with transaction.atomic():
            Member.objects.bulk_create(members, batch_size=batch_size)
            through.objects.bulk_create(links, batch_size=5000)
            ChangeRecord.write_many(members)
    with transaction.atomic():
        branch_actions.branch_member_counts_adjust(deltas={pk: tuple(d) for pk, d in deltas.items()})
    elapsed = time.perf_counter() - started
    print(f"bulk-created {total} members in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def user_with_role(username: str, role: str, branch: Branch) -> User:
    user, created = User.objects.get_or_create(username=username)
    if created:
        branch_actions.role_grant(actor=None, user=user, role=role, branch=branch)
    return user


def median_ms(client: APIClient, user: User, url: str, params: dict, repeat: int) -> tuple[float, int, int]:
    """Median wall time of the request in ms, with the row count and queries of the last run."""
    times = []
    for _ in range(repeat):
        client.force_authenticate(User.objects.get(pk=user.pk))  # fresh user: role grants read per request
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:500]
    return statistics.median(times), len(response.json()["results"]), len(ctx.captured_queries)


def page_sql(client: APIClient, user: User, url: str, params: dict) -> str:
    client.force_authenticate(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, params)
    return next(q["sql"] for q in ctx.captured_queries if 'FROM "members_member"' in q["sql"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL; set DATABASE_URL=postgres://… for meaningful figures", file=sys.stderr)

    call_command("migrate", verbosity=0)
    if Member.objects.count() < args.members:
        if Member.all_objects.exists():
            sys.exit("The database holds a different number of members: use an empty (throwaway) database.")
        fill(args.members)
    root = Branch.objects.get(name="Bench district committee", parent__isnull=True)
    committee = Branch.objects.filter(parent=root).order_by("name").first()
    print(f"{Member.objects.count():,} members; PostgreSQL: {connection.vendor == 'postgresql'}")

    sample = Member.objects.order_by("created_at", "id")[args.members // 2]
    initials = sample.name_initials
    secretary = user_with_role("bench-secretary", "secretary", root)
    organiser = user_with_role("bench-organiser", "organiser", root)
    client = APIClient(HTTP_HOST="127.0.0.1")
    url = "/api/v1/members/"
    cases = [
        ("page of 50", {}),
        (f"pinyin initials search ?search={initials}", {"search": initials}),
        (f"phone last 4 ?search={sample.phone_last4}", {"search": sample.phone_last4}),
        (f"phone last 4 ?phone_last4={sample.phone_last4}", {"phone_last4": sample.phone_last4}),
        (f"full pinyin ?search={sample.name_pinyin}", {"search": sample.name_pinyin}),
        ("subtree ?branch=<committee of 5,000>", {"branch": str(committee.pk)}),
        ("subtree ?branch=<top of the tree, all>", {"branch": str(root.pk)}),
        ("?platform=meituan&category=full", {"platform": "meituan", "category": "full"}),
        ("?occupation=courier", {"occupation": "courier"}),
    ]
    print(f"\nGET {url} — median of {args.repeat}, page_size 50")
    print(f"{'case':48} {'role':10} {'ms':>8} {'rows':>5} {'queries':>7}")
    for label, params in cases:
        for role, user in (("secretary", secretary), ("organiser", organiser)):
            ms, rows, queries = median_ms(client, user, url, params, args.repeat)
            print(f"{label:48} {role:10} {ms:8.1f} {rows:5d} {queries:7d}")

    if args.explain and connection.vendor == "postgresql":
        for label, params in cases:
            sql = page_sql(client, organiser, url, params)
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"\n--- {label}\n{plan}")


if __name__ == "__main__":
    main()
