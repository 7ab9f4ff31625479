"""Member import speed: rows per second of the preview (checking) and the commit (writing), CSV and XLSX.

Usage (a throwaway PostgreSQL database; it is migrated on the first run):

    createdb -h 127.0.0.1 -U postgres bw_import_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_import_bench .venv/bin/python bench/members_import.py
    ... --rows 100000 --formats csv xlsx

It generates a file of `--rows` valid members per format (unique ID numbers with real check digits,
names, phone numbers, categories, dates, occupations, platforms, spread over 20 branches) under
var/bench/, then runs the same code as the import page's Celery tasks, in this process:
`import_job_validate` (the preview) and `import_job_commit` (all or nothing, one transaction), and
prints rows per second of each. Members imported by a previous run are deleted first, so runs repeat.
"""

import argparse
import csv
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "False")  # no per-query logging while timing

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from branches import actions as branch_actions  # noqa: E402
from branches.choices import BranchKind  # noqa: E402
from branches.models import Branch  # noqa: E402
from members import actions  # noqa: E402
from members.choices import ImportMode, ImportStatus  # noqa: E402
from members.importing import COLUMNS  # noqa: E402
from members.models import Member  # noqa: E402

ROOT_NAME = "Bench import committee"
BRANCHES = 20
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宇浩然博文思雨欣怡晨阳佳琪子轩梓涵一诺"
#: Region codes in use over the whole range of birth years (validation checks the code against the year).
REGIONS = ["110101", "110102", "110105", "110108", "310101", "310104", "310110", "120101"]
OCCUPATIONS = ["外卖骑手", "快递员", "网约车司机", "货车司机", "互联网从业者", "自由职业者", ""]
PLATFORMS = ["美团", "饿了么", "顺丰", "京东", "滴滴出行", "美团、饿了么", ""]
BIRTH_BASE = datetime.date(1965, 1, 1)
DAYS = 18000  # birth days spread over ~49 years
HEADERS = [
    "姓名",
    "公民身份号码",
    "人员类别",
    "所在党组织",
    "入党日期",
    "转正日期",
    "联系电话",
    "职业",
    "服务平台",
    "学历",
]


def citizen_id(i: int) -> str:
    """A valid ID number, unique for each i below 18000 × 500."""
    born = BIRTH_BASE + datetime.timedelta(days=i % DAYS)
    sequence = (i // DAYS) * 2 + (i % 2)
    body = f"{REGIONS[i % len(REGIONS)]}{born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def member_rows(count: int, offset: int, branch_names: list[str]):
    rng = random.Random(offset)
    for i in range(offset, offset + count):
        number = citizen_id(i)
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        joined = born + datetime.timedelta(days=365 * 19 + rng.randint(0, 3000))
        joined = min(joined, datetime.date(2023, 1, 1))
        full = rng.random() < 0.85
        yield [
            rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))),
            number,
            "正式党员" if full else "预备党员",
            branch_names[i % len(branch_names)],
            joined.isoformat(),
            (joined + datetime.timedelta(days=366)).isoformat() if full else "",
            f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
            rng.choice(OCCUPATIONS),
            rng.choice(PLATFORMS),
            rng.choice(["大学本科", "大学专科", "高中", "中专", ""]),
        ]


def write_csv(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)


def write_xlsx(path: Path, rows) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("党员信息")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def bench_tree() -> list[Branch]:
    root = Branch.objects.filter(name=ROOT_NAME, parent=None).first()
    if root is None:
        root = branch_actions.branch_create(
            actor=None, parent=None, name=ROOT_NAME, kind=BranchKind.COMMITTEE, basis="area"
        )
        for b in range(BRANCHES):
            branch_actions.branch_create(
                actor=None, parent=root, name=f"Bench import branch {b:02d}", kind=BranchKind.BRANCH, basis="platform"
            )
    return list(Branch.objects.filter(parent=root).order_by("name"))


def clear_previous(branches: list[Branch]) -> None:
    """Remove members of a previous run (hard delete: a throwaway database) and reset the counters.

    Raw deletes: the bench members have nothing else hanging on them, and collecting the relations of
    other apps (meetings, dues) would need their tables to be migrated here too.
    """
    members = Member.all_objects.filter(branch__in=branches)
    Member.platforms.through.objects.filter(member__in=members)._raw_delete(connection.alias)
    members._raw_delete(connection.alias)
    Branch.all_objects.filter(pk__in=[b.pk for b in branches]).update(member_count=0, full_member_count=0)


def timed(label: str, rows: int, func):
    started = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - started
    print(f"  {label:<8} {seconds:8.1f} s   {rows / seconds:9,.0f} rows/s   -> {result.status}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", nargs="+", choices=["csv", "xlsx"], default=["csv", "xlsx"])
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    branches = bench_tree()
    names = [b.name for b in branches]
    folder = Path(settings.BASE_DIR) / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}; {args.rows:,} rows per file")
    assert set(HEADERS) <= {c.header for c in COLUMNS}, "the bench files use the template's column names"

    for index, fmt in enumerate(args.formats):
        path = folder / f"members-{args.rows}.{fmt}"
        if not path.exists():
            print(f"Writing {path} …", flush=True)
            rows = member_rows(args.rows, index * args.rows, names)
            (write_csv if fmt == "csv" else write_xlsx)(path, rows)
        data = path.read_bytes()
        clear_previous(branches)
        print(f"{fmt.upper()} ({len(data) / 1024 / 1024:.1f} MB):", flush=True)
        job = actions.import_job_create(actor=None, data=data, filename=path.name, keep_file=False)
        job = timed("preview", args.rows, lambda job=job, data=data: actions.import_job_validate(job=job, data=data))
        if job.status != ImportStatus.VALIDATED or job.rows_invalid:
            sys.exit(f"unexpected preview: {job.status} {job.error} {job.row_errors[:5]}")
        job = actions.import_job_commit_start(actor=None, job=job, mode=ImportMode.ALL_OR_NOTHING)
        job = timed("commit", args.rows, lambda job=job, data=data: actions.import_job_commit(job=job, data=data))
        if job.status != ImportStatus.DONE:
            sys.exit(f"commit failed: {job.error}")
        in_tree = Member.objects.filter(branch__in=branches).count()
        print(f"  created  {job.rows_created:,} members; {in_tree:,} in the tree")


if __name__ == "__main__":
    main()
