"""Benchmark of the reminder sweep: one activity with 10,000 invitees, the one-day reminder going out.

    createdb -h 127.0.0.1 -U postgres bw_reminders_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_reminders_bench .venv/bin/python bench/reminders_sweep.py

Uses DATABASE_URL when set, otherwise a throwaway SQLite file, var/bench-reminders.sqlite3. The first run
migrates and bulk-creates the invitees (every one with a phone; every other one with a login and e-mail
address); later runs reuse them. Each run deletes the activity's send log, then times
`reminders.reminders_sweep` (inline, as the beat task's batch would): in-app notifications, e-mail to the
locmem backend, SMS to the console backend (its output is swallowed so the figures stay readable).
Prints the time of each run, the median and the SQL query count. No assertions: it measures.
"""

import argparse
import contextlib
import datetime
import io
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRANCH_NAME = "Reminder bench branch"


def _configure() -> None:
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        (ROOT / "var").mkdir(exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench-reminders.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ["SMS_BACKEND"] = "core.sms.ConsoleSmsBackend"
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()  # e-mail kept in memory (locmem)


def _invitees(total: int):
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from stdnum.cn import ric

    from branches import actions as branch_actions
    from branches.choices import BranchKind
    from branches.models import Branch
    from core.models import User
    from members.choices import MemberCategory, MemberStatus
    from members.models import Member, sensitive_columns

    branch = Branch.objects.filter(name=BRANCH_NAME).first()
    if branch is None:
        branch = branch_actions.branch_create(
            actor=None, parent=None, name=BRANCH_NAME, kind=BranchKind.BRANCH, basis="platform"
        )
    have = Member.objects.filter(branch=branch).count()
    if have >= total:
        return branch
    started = time.perf_counter()
    password = make_password(None)
    for offset in range(have, total, 2000):
        users, members = [], []
        for i in range(offset, min(offset + 2000, total)):
            born = datetime.date(1970, 1, 1) + datetime.timedelta(days=i % 12000)
            body = f"110101{born:%Y%m%d}{i // 12000 + 100:03d}"
            number = body + ric.calc_check_digit(body + "0")
            user = None
            if i % 2 == 0:
                user = User(username=f"bench_rider_{i}", email=f"rider{i}@example.com", password=password)
                users.append(user)
            members.append(
                Member(
                    branch=branch,
                    user=user,
                    name=f"Rider {i}",
                    sex="male" if int(number[16]) % 2 else "female",
                    birth_date=born,
                    category=MemberCategory.FULL,
                    joined_on=datetime.date(2018, 1, 1),
                    status=MemberStatus.NORMAL,
                    version=1,
                    **sensitive_columns(citizen_id=number, phone=f"139{i:08d}"),
                )
            )
        with transaction.atomic():
            User.objects.bulk_create(users, batch_size=2000)
            Member.objects.bulk_create(members, batch_size=2000)
    print(f"bulk-created {total - have} invitees in {time.perf_counter() - started:.1f} s")
    return branch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitees", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _configure()

    from django.conf import settings
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from activities import reminders
    from activities.actions import activity_create
    from activities.models import Activity, ReminderBatch, ReminderLog
    from core.models import Notification

    call_command("migrate", verbosity=0)
    settings.ACTIVITIES_QUIET_HOURS = None
    branch = _invitees(args.invitees)
    activity = Activity.objects.filter(branch=branch).first()
    if activity is None:
        start = timezone.now().replace(microsecond=0) + datetime.timedelta(days=20)
        activity = activity_create(
            actor=None,
            branch=branch,
            title="Bench study session",
            kind="study",
            mode="offline",
            venue="Station rest room",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
        )
    now = activity.starts_at - datetime.timedelta(minutes=1440)
    print(f"{connection.vendor}: one activity, {args.invitees:,} invitees, offsets {activity.reminder_offsets}")

    times = []
    for run in range(1, args.runs + 1):
        ReminderLog.objects.filter(activity=activity).delete()
        ReminderBatch.objects.filter(activity=activity).delete()
        Notification.objects.filter(kind=reminders.KIND_REMINDER).delete()
        mail.outbox = []
        sms_out = io.StringIO()
        with CaptureQueriesContext(connection) as captured, contextlib.redirect_stdout(sms_out):
            started = time.perf_counter()
            sent = reminders.reminders_sweep(now=now)
            elapsed = time.perf_counter() - started
        times.append(elapsed)
        print(
            f"run {run}: {elapsed:.2f} s, {sent:,} invitees reminded "
            f"({Notification.objects.filter(kind=reminders.KIND_REMINDER).count():,} in-app, "
            f"{len(mail.outbox):,} e-mails, {sms_out.getvalue().count('SMS to '):,} SMS), {len(captured)} queries"
        )
        again = reminders.reminders_sweep(now=now + datetime.timedelta(minutes=1))
        assert again == 0, "a second sweep must send nothing"  # noqa: S101 (sanity of the figure, not a test)
    print(f"median {statistics.median(times):.2f} s for {args.invitees:,} invitees")


if __name__ == "__main__":
    main()
