"""Dashboard at 1,000,000 members: the stats refresh, `dashboard_tables`, and the dashboard page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_dash_bench .venv/bin/python bench/dashboard.py
    ... --members 1000000 --branches 20000 --committees 30 --runs 15

PostgreSQL only (the data is written with set-based SQL: `INSERT … SELECT … FROM generate_series`).
The first run migrates the database and generates a district committee, committees, branches with a
unit each, members (occupations, platforms, birth dates, categories, statuses, lost contact, mobility),
dues payments for most of them, a year of 三会一课 activities with attendance, transfers, lost-contact
cases, workers, cases (resolved, rated, some breached), stations and visits. Encrypted columns hold
plausible placeholders (nothing in the dashboard decrypts them). Later runs find the data and reuse it.

It then runs the stats refresh once (`manage.py refresh_stats`), and times `dashboard_tables(...)` and a
GET of the dashboard page (Django test client) for an officer at the top of the tree and a secretary at
one branch: median / fastest / slowest of the runs and the queries of one run. No assertions: it measures.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOT_NAME = "Dashboard bench district"


def _configure() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # no per-query logging outside what we capture
    warnings.filterwarnings("ignore", message="No directory at")

    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()


_configure()

from allauth.mfa.models import Authenticator  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from branches import actions as branch_actions  # noqa: E402
from branches.choices import BranchKind, Role  # noqa: E402
from branches.models import Branch  # noqa: E402
from core.models import User  # noqa: E402
from members.choices import Education, Occupation  # noqa: E402
from members.models import Member  # noqa: E402
from services.models import StationVisit  # noqa: E402

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
    "田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宇浩然博文思雨欣怡晨阳佳琪子轩梓涵一诺"
# Weighted: most members in the emerging sectors ride, deliver or drive.
OCCUPATIONS = (
    [Occupation.DELIVERY_RIDER] * 4
    + [Occupation.COURIER] * 3
    + [
        Occupation.RIDE_HAILING_DRIVER,
        Occupation.RIDE_HAILING_DRIVER,
        Occupation.TRUCK_DRIVER,
        Occupation.INTERNET_WORKER,
        Occupation.INTERNET_WORKER,
        Occupation.FREELANCER,
        Occupation.NON_PUBLIC_STAFF,
        Occupation.OTHER,
        "",
    ]
)
EDUCATION = (
    [Education.HIGH_SCHOOL] * 3
    + [Education.SECONDARY_VOCATIONAL] * 2
    + [
        Education.COLLEGE,
        Education.COLLEGE,
        Education.BACHELOR,
        Education.JUNIOR_HIGH,
        Education.MASTER,
    ]
)


#
# Data
#
def _step(label: str, sql: str, params=None) -> None:
    """Run one statement; parameters are always passed, so `%%` is always the literal `%`."""
    params = params if params is not None else {"_": None}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    print(f"  {label:<44} {rows:>10,} rows {time.perf_counter() - started:8.1f} s", flush=True)


#: Tables filled by the million: their secondary indexes are dropped while they fill and built once after,
#: which is several times faster than keeping them up to date row by row (primary keys and unique
#: constraints stay; unique indexes are rebuilt, so uniqueness is still checked).
BULK_TABLES = [
    "members_member",
    "members_member_platforms",
    "members_duespayment",
    "members_duespaidmonth",
    "members_membercontact",
    "activities_activity",
    "activities_attendance",
]


def _drop_indexes() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = (quote_ident(i.schemaname) || '.'
                              || quote_ident(i.indexname))::regclass)
            """,
            [BULK_TABLES],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    print(f"  dropped {len(indexes)} secondary indexes of {len(BULK_TABLES)} tables while they fill")
    return indexes


def _build_indexes(indexes: list[tuple[str, str]]) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
    print(f"  {'rebuilt ' + str(len(indexes)) + ' indexes':<44} {'':>10}      {time.perf_counter() - started:8.1f} s")


def generate(*, members: int, branches: int, committees: int, today: datetime.date) -> float:
    """Fill the database with set-based SQL; returns the seconds it took."""
    started = time.perf_counter()
    year = today.year
    month = today.replace(day=1)
    root = branch_actions.branch_create(
        actor=None, parent=None, name=ROOT_NAME, kind=BranchKind.COMMITTEE, basis="area"
    )
    print(f"generating {committees} committees, {branches:,} branches, {members:,} members (today {today})")
    # Foreign keys are deferred constraint triggers, checked row by row: several times the cost of the insert.
    # The rows below are consistent by construction, so this session skips them while it writes.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    indexes = _drop_indexes()
    p = {
        "root_id": root.pk,
        "root_path": root.path,
        "committees": committees,
        "branches": branches,
        "members": members,
        "today": today,
        "year_start": datetime.date(year, 1, 1),
        "month": month,
        "year": year,
        "surnames": SURNAMES,
        "given": GIVEN,
        "occupations": [str(o) for o in OCCUPATIONS],
        "education": [str(e) for e in EDUCATION],
        "tz": "Asia/Shanghai",
    }
    _step(
        "committees",
        """
        INSERT INTO branches_branch (id, version, created_at, updated_at, name, path, depth, kind, basis, is_joint,
            is_temporary, is_functional, address, founded_on, term_extension_months, member_count,
            full_member_count, parent_id)
        SELECT u.id, 1, now(), now(), 'Industry committee ' || c, %(root_path)s || replace(u.id::text, '-', '') || '/',
            1, 'committee', 'platform', false, false, false, '', date '2015-01-01', 0, 0, 0, %(root_id)s
        FROM generate_series(1, %(committees)s) c CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id, c AS k) u
        """,
        p,
    )
    _step(
        "branches",
        """
        WITH com AS (
            SELECT row_number() OVER (ORDER BY path) - 1 AS n, id, path
            FROM branches_branch WHERE parent_id = %(root_id)s
        )
        INSERT INTO branches_branch (id, version, created_at, updated_at, name, path, depth, kind, basis, is_joint,
            is_temporary, is_functional, address, founded_on, term_extension_months, member_count,
            full_member_count, parent_id)
        SELECT u.id, 1, now(), now(), 'Station branch ' || b, com.path || replace(u.id::text, '-', '') || '/', 2,
            'branch', (ARRAY['platform', 'area', 'building', 'park', 'unit'])[1 + b %% 5], b %% 7 = 0, b %% 97 = 0,
            false, '', date '2016-01-01' + (b %% 3000), 0, 0, 0, com.id
        FROM generate_series(1, %(branches)s) b
        CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id, b AS k) u
        JOIN com ON com.n = b %% %(committees)s
        """,
        p,
    )
    _step(
        "leaf table",
        """
        CREATE TABLE bench_leaf AS
        SELECT row_number() OVER (ORDER BY path) AS n, id, is_temporary
        FROM branches_branch WHERE path LIKE %(root_path)s || '%%' AND kind = 'branch'
        """,
        p,
    )
    _step("leaf index", "CREATE UNIQUE INDEX bench_leaf_n ON bench_leaf (n)")
    _step(
        "units (one per branch)",
        """
        INSERT INTO branches_unit (id, version, created_at, updated_at, name, unit_type, size, economic_type,
            has_union, address, branch_id)
        SELECT gen_random_uuid(), 1, now(), now(), 'Unit ' || n, 'enterprise', 'small', 'private', n %% 3 = 0, '', id
        FROM bench_leaf
        """,
    )
    _step(
        "branch covers its unit",
        "INSERT INTO branches_branch_units (branch_id, unit_id) SELECT branch_id, id FROM branches_unit "
        "WHERE branch_id IN (SELECT id FROM bench_leaf)",
    )
    _step(
        "members",
        """
        INSERT INTO members_member (id, version, created_at, updated_at, name, name_pinyin, name_initials, sex,
            citizen_id_cipher, citizen_id_hash, citizen_id_last4, citizen_id_masked, ethnicity, birth_date, education,
            category, joined_on, full_member_on, job_title, phone_cipher, phone_last4, phone_masked, address, status,
            lost_contact, lost_contact_since, is_mobile, mobile_destination, occupation, shows_identity,
            under_probation_discipline, branch_id)
        SELECT gen_random_uuid(), 1, now() - (%(members)s - i) * interval '1 second', now(),
            name, 'bench ' || i, 'b' || (i %% 1000), CASE WHEN i %% 2 = 1 THEN 'male' ELSE 'female' END,
            'gAAAAAB' || encode(sha256(('cid' || i)::bytea), 'base64'), encode(sha256(('hash' || i)::bytea), 'hex'),
            right(cid, 4), left(cid, 4) || '**********' || right(cid, 4),
            CASE WHEN r_eth < 0.92 THEN 'han' ELSE (ARRAY['hui', 'zhuang', 'manchu', 'miao', 'tujia'])[1 + i %% 5] END,
            birth, (%(education)s::text[])[1 + i %% cardinality(%(education)s::text[])],
            CASE WHEN is_full THEN 'full' ELSE 'probationary' END, joined,
            CASE WHEN is_full THEN joined + 365 END, '',
            'gAAAAAB' || encode(sha256(('phone' || i)::bytea), 'base64'), right(phone, 4),
            left(phone, 3) || '****' || right(phone, 4), '',
            CASE WHEN r_status < 0.93 THEN 'normal' WHEN r_status < 0.96 THEN 'suspended'
                 WHEN r_status < 0.98 THEN 'reserved' WHEN r_status < 0.99 THEN 'removed' ELSE 'deceased' END,
            r_lost < 0.02, CASE WHEN r_lost < 0.02 THEN %(today)s - 1 - floor(r_lost * 40000)::int END,
            r_mobile < 0.03, CASE WHEN r_mobile < 0.03 THEN '上海市浦东新区' ELSE '' END,
            (%(occupations)s::text[])[1 + floor(r_occ * cardinality(%(occupations)s::text[]))::int],
            r_mobile > 0.6, false, leaf.id
        FROM (
            SELECT i, cid, phone, birth, r_eth, r_status, r_lost, r_mobile, r_occ, leaf_n, name,
                birth + 6575 + floor(random() * (%(today)s - (birth + 6575)))::int AS joined
            FROM (
                SELECT i, birth,
                    (ARRAY['110101', '310104', '440305', '330106', '510104'])[1 + i %% 5]
                        || to_char(birth, 'YYYYMMDD') || lpad((i %% 1000)::text, 3, '0') || 'X' AS cid,
                    '13' || lpad((i %% 1000000000)::text, 9, '0') AS phone,
                    random() AS r_eth, random() AS r_status, random() AS r_lost, random() AS r_mobile,
                    random() AS r_occ,
                    1 + floor(%(branches)s * power(random(), 1.3))::int AS leaf_n,
                    substr(%(surnames)s, 1 + (i * 7) %% char_length(%(surnames)s), 1)
                        || substr(%(given)s, 1 + (i * 13) %% char_length(%(given)s), 1)
                        || CASE WHEN i %% 3 = 0 THEN ''
                           ELSE substr(%(given)s, 1 + (i * 31) %% char_length(%(given)s), 1) END AS name
                FROM (SELECT i, date '1962-01-01' + floor(random() * 16000)::int AS birth
                      FROM generate_series(1, %(members)s) i) g
            ) s
        ) t
        CROSS JOIN LATERAL (SELECT t.joined < %(today)s - 400 AND random() < 0.97 AS is_full) f
        JOIN bench_leaf leaf ON leaf.n = t.leaf_n
        """,
        p,
    )
    _step(
        "branch member counters",
        """
        UPDATE branches_branch b SET member_count = c.n, full_member_count = c.f
        FROM (SELECT branch_id, count(*) AS n, count(*) FILTER (WHERE category = 'full') AS f
              FROM members_member WHERE status IN ('normal', 'suspended', 'reserved') GROUP BY branch_id) c
        WHERE b.id = c.branch_id
        """,
    )
    _step(
        "platform links",
        """
        INSERT INTO members_member_platforms (member_id, platform_id)
        SELECT m.id, pl.ids[1 + (h + k) %% cardinality(pl.ids)]
        FROM (SELECT id, abs(hashtext(id::text)) AS h FROM members_member) m
        CROSS JOIN (SELECT array_agg(id ORDER BY position, code) AS ids FROM members_platform) pl
        CROSS JOIN generate_series(0, 1) k
        WHERE (k = 0 AND m.h %% 100 < 78) OR (k = 1 AND m.h %% 100 < 22)
        """,
    )
    # Dues: 70% paid through last month (three payments), 15% stopped three months ago, 15% pay nothing.
    _step(
        "dues payments",
        """
        INSERT INTO members_duespayment (id, version, created_at, updated_at, period_from, period_to, amount, method,
            receipt_number, receipt_year, paid_on, note, branch_id, member_id)
        SELECT gen_random_uuid(), 1, now(), now(), pf, pt, amount * ((pt - pf) / 28 + 1), 'wechat',
            'B' || left(replace(m.id::text, '-', ''), 20) || '-' || k, extract(year FROM least(pt + 12, %(today)s)),
            least(pt + 12, %(today)s), CASE WHEN k = 0 THEN 'Paid for several months' ELSE '' END, m.branch_id, m.id
        FROM (SELECT id, branch_id, joined_on, abs(hashtext(id::text || 'dues')) %% 100 AS h,
                     round((2 + random() * 40)::numeric, 2) AS amount
              FROM members_member WHERE status = 'normal') m
        CROSS JOIN LATERAL (VALUES
            (0, %(year_start)s::date, (%(month)s::date - interval '7 months')::date),
            (1, (%(month)s::date - interval '6 months')::date, (%(month)s::date - interval '4 months')::date),
            (2, (%(month)s::date - interval '3 months')::date, (%(month)s::date - interval '1 month')::date)
        ) AS w(k, pf, pt)
        WHERE pf <= pt AND pf >= date_trunc('month', m.joined_on)::date
          AND (m.h < 70 OR (m.h < 85 AND k < 2))
        """,
        p,
    )
    _step(
        "dues paid months",
        """
        INSERT INTO members_duespaidmonth (member_id, month, payment_id)
        SELECT member_id, generate_series(period_from, period_to, interval '1 month')::date, id
        FROM members_duespayment
        """,
    )
    _step(
        "activities (a year of 三会一课)",
        """
        INSERT INTO activities_activity (id, version, created_at, updated_at, kind, title, agenda, mode, venue,
            online_link, credited_hours, reminder_offsets, starts_at, ends_at, status, cancel_reason, minutes,
            branch_id)
        SELECT gen_random_uuid(), 1, now(), now(), k.kind, k.title, '', 'offline', 'Rider station', '', k.hours,
            '[]'::jsonb, ts, ts + k.dur, CASE WHEN ts < now() THEN 'held' ELSE 'planned' END, '', '', l.id
        FROM bench_leaf l
        CROSS JOIN generate_series(1, 12) mo
        CROSS JOIN (VALUES
            ('theme_day', 'Theme party day', 1, 0.8, 4.0, interval '2 hours'),
            ('committee_meeting', 'Committee meeting', 1, 0.5, 0.0, interval '1 hour'),
            ('study', 'Study session', 1, 0.6, 4.0, interval '90 minutes'),
            ('branch_assembly', 'Branch assembly', 3, 0.85, 2.0, interval '2 hours'),
            ('party_lecture', 'Party lecture', 3, 0.7, 4.0, interval '2 hours')
        ) AS k(kind, title, every, share, hours, dur)
        CROSS JOIN LATERAL (
            SELECT make_timestamptz(%(year)s, mo, 3 + floor(random() * 24)::int, 20, 0, 0, %(tz)s) AS ts
        ) t
        -- random() times a column of each side: a qual naming one side only is pushed below the join and
        -- evaluated once per (month, kind), which would keep or drop that meeting for every branch at once.
        WHERE (mo - 1) %% k.every = 0 AND random() * sign(l.n) < k.share AND make_date(%(year)s, mo, 1) <= %(today)s
        """,
        p,
    )
    _step(
        "held-activity table",
        "CREATE TABLE bench_held AS SELECT id, branch_id, starts_at, 1 AS one FROM activities_activity "
        "WHERE status = 'held' "
        "AND branch_id IN (SELECT id FROM bench_leaf)",
    )
    _step("held-activity index", "CREATE INDEX bench_held_branch ON bench_held (branch_id)")
    # Each member has a propensity to attend (some keen, most occasional), so study figures spread out.
    _step(
        "attendance",
        """
        INSERT INTO activities_attendance (id, version, created_at, updated_at, method, checked_in_at,
            duration_minutes, note, activity_id, branch_id, member_id)
        SELECT gen_random_uuid(), 1, now(), now(), CASE WHEN random() < 0.7 THEN 'qr' ELSE 'manual' END,
            a.starts_at + interval '5 minutes', NULL, '', a.id, a.branch_id, m.id
        FROM (SELECT id, branch_id, power((abs(hashtext(id::text || 'keen')) %% 100) / 100.0, 2) * 0.6 AS keen
              FROM members_member WHERE status = 'normal' AND NOT lost_contact) m
        JOIN bench_held a ON a.branch_id = m.branch_id
        WHERE random() * a.one < m.keen  -- per pair, not per member (see the activities above)
        """,
    )
    _step(
        "last contact",
        """
        INSERT INTO members_membercontact (member_id, last_attended_on, last_paid_on)
        SELECT m.id, att.last, pay.last
        FROM members_member m
        LEFT JOIN (SELECT member_id, max(checked_in_at AT TIME ZONE %(tz)s)::date AS last
                   FROM activities_attendance GROUP BY member_id) att ON att.member_id = m.id
        LEFT JOIN (SELECT member_id, max(paid_on) AS last FROM members_duespayment GROUP BY member_id) pay
            ON pay.member_id = m.id
        WHERE att.last IS NOT NULL OR pay.last IS NOT NULL
        """,
        p,
    )
    _step(
        "lost-contact cases",
        """
        INSERT INTO members_lostcontactcase (id, status, last_contact_on, flagged_on, proposal_note, suspended_on,
            member_id)
        SELECT gen_random_uuid(), CASE WHEN status = 'suspended' THEN 'suspended' ELSE 'flagged' END,
            lost_contact_since, least(%(today)s, lost_contact_since + 183), '',
            CASE WHEN status = 'suspended' THEN least(%(today)s, lost_contact_since + 200) END, id
        FROM members_member WHERE lost_contact
        """,
        p,
    )
    _step(
        "transfers (completed this year, open)",
        """
        INSERT INTO members_transfer (id, version, created_at, updated_at, kind, from_outside, to_outside, status,
            reason, issued_on, valid_until, accepted_on, receipt_returned_on, completed_on, closed_reason,
            letter_number, incoming_name, incoming_citizen_id_cipher, incoming_citizen_id_masked, incoming_category,
            branch_id, from_branch_id, to_branch_id, member_id)
        SELECT gen_random_uuid(), 1, now(), now(), 'internal', '', '', st, 'Changed workplace', issued,
            issued + 60, CASE WHEN st = 'completed' THEN issued + 5 END,
            CASE WHEN st = 'completed' THEN issued + 12 END, CASE WHEN st = 'completed' THEN issued + 15 END,
            '', '', '', '', '', '', src.id, src.id, m.branch_id, m.id
        FROM (SELECT id, branch_id, abs(hashtext(id::text || 'move')) AS h FROM members_member
              WHERE status = 'normal') m
        JOIN bench_leaf dst ON dst.id = m.branch_id
        JOIN bench_leaf src ON src.n = 1 + (dst.n + 17) %% %(branches)s
        CROSS JOIN LATERAL (SELECT CASE WHEN m.h %% 50 = 0 THEN 'completed' ELSE 'issued' END AS st,
            least(%(today)s - 16, %(year_start)s + (m.h %% 330)) AS issued) x
        WHERE m.h %% 50 = 0 OR m.h %% 500 = 1
        """,
        p,
    )
    _step(
        "workers",
        """
        INSERT INTO services_worker (id, version, created_at, updated_at, name, phone_cipher, phone_hash, phone_last4,
            phone_masked, citizen_id_cipher, citizen_id_hash, citizen_id_last4, citizen_id_masked, occupation, area,
            branch_id)
        SELECT gen_random_uuid(), 1, now(), now(), 'Worker ' || i, 'gAAAAAB' || md5('wp' || i),
            encode(sha256(('worker' || i)::bytea), 'hex'), lpad((i %% 10000)::text, 4, '0'),
            '139****' || lpad((i %% 10000)::text, 4, '0'), '', '', '', '',
            (%(occupations)s::text[])[1 + i %% cardinality(%(occupations)s::text[])], '', l.id
        FROM generate_series(1, %(members)s / 10) i JOIN bench_leaf l ON l.n = 1 + (i * 7919) %% %(branches)s
        """,
        p,
    )
    _step(
        "stations",
        """
        INSERT INTO services_station (id, version, created_at, updated_at, name, address, hours, amenities,
            contact_name, contact_phone, is_active, branch_id)
        SELECT gen_random_uuid(), 1, now(), now(), 'Rider station ' || n, n || ' Rider Road', '08:00-22:00',
            '["water", "charging"]'::jsonb, '', '', n %% 20 <> 0, id
        FROM bench_leaf WHERE n %% 10 = 0
        """,
    )
    _step(
        "cases",
        """
        INSERT INTO services_case (id, version, created_at, updated_at, description, channel, priority, status,
            tracking_code, opened_at, first_responded_at, first_response_due, resolution_due, paused_seconds,
            resolved_at, closed_at, resolution_summary, rating, rating_comment, rated_at, suspected_spam, spam_reasons,
            branch_id, case_type_id, worker_id)
        SELECT gen_random_uuid(), 1, now(), now(), 'Bench case', (ARRAY['station_visit', 'phone', 'online_form',
            'qr_code', 'hotline_referral'])[1 + h %% 5], 'normal', st, upper(substr(md5('case' || w.id::text), 1, 12)),
            opened, opened + interval '3 hours', opened + interval '1 day', opened + interval '7 days', 0,
            CASE WHEN st IN ('resolved', 'closed') THEN least(now(), opened + (h %% 20) * interval '1 day') END,
            CASE WHEN st = 'closed' THEN least(now(), opened + (h %% 20 + 3) * interval '1 day') END, '',
            CASE WHEN st IN ('resolved', 'closed') AND h %% 2 = 0 THEN 1 + (h / 7) %% 5 END, '',
            CASE WHEN st IN ('resolved', 'closed') AND h %% 2 = 0 THEN now() END, h %% 97 = 0, '[]'::jsonb,
            w.branch_id, ct.ids[1 + h %% cardinality(ct.ids)], w.id
        FROM (SELECT id, branch_id, abs(hashtext(id::text || 'case')) AS h FROM services_worker) w
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM services_casetype) ct
        CROSS JOIN LATERAL (SELECT CASE WHEN h %% 10 < 4 THEN 'closed' WHEN h %% 10 < 7 THEN 'resolved'
            WHEN h %% 10 < 8 THEN 'in_progress' WHEN h %% 10 < 9 THEN 'waiting_partner' ELSE 'new' END AS st,
            %(year_start)s::timestamptz
                + (h %% greatest(1, %(today)s - %(year_start)s)) * interval '1 day' AS opened) x
        """,
        p,
    )
    _step(
        "case breaches",
        """
        INSERT INTO services_casebreach (kind, due_at, at, case_id)
        SELECT 'resolution', resolution_due, resolution_due, id FROM services_case
        WHERE abs(hashtext(id::text)) %% 10 = 0 AND resolution_due < now()
        """,
    )
    _step(
        "station visits",
        """
        INSERT INTO services_stationvisit (at, purpose, station_id)
        SELECT %(year_start)s::timestamptz + random() * (now() - %(year_start)s::timestamptz), 'rest', s.id
        FROM services_station s CROSS JOIN generate_series(1, 150)
        """,
        p,
    )
    _step("drop helper tables", "DROP TABLE bench_held, bench_leaf")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")
    _build_indexes(indexes)
    _step("analyze", "ANALYZE")
    elapsed = time.perf_counter() - started
    print(f"generated in {elapsed:.0f} s")
    return elapsed


#
# Timing
#
def user_with_role(username: str, role: str, branch: Branch) -> User:
    user, created = User.objects.get_or_create(username=username)
    if created:
        branch_actions.role_grant(actor=None, user=user, role=role, branch=branch)
    if role in (Role.ADMIN, Role.OFFICER) and not Authenticator.objects.filter(user=user).exists():
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "bench"})
    return user


def timed(fn, runs: int) -> tuple[float, float, float, int]:
    """(median, fastest, slowest) in ms of `runs` calls, and the queries of the last one."""
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times), max(times), len(ctx.captured_queries)


def dashboard_url() -> str:
    from django.urls import NoReverseMatch, reverse

    for name in ("dashboard:index", "dashboard:dashboard", "dashboard:home", "dashboard:overview"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/dashboard/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--branches", type=int, default=20_000)
    parser.add_argument("--committees", type=int, default=30)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--skip-refresh", action="store_true", help="time with the stored figures as they are")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only: set DATABASE_URL=postgres://…/bw_dash_bench")

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    root = Branch.objects.filter(name=ROOT_NAME, parent__isnull=True).first()
    if root is None:
        if Member.all_objects.exists():
            sys.exit("The database holds other data: use an empty database of its own (bw_dash_bench).")
        generate(members=args.members, branches=args.branches, committees=args.committees, today=today)
        root = Branch.objects.get(name=ROOT_NAME, parent__isnull=True)
    elif not StationVisit.objects.exists():  # the last table written
        sys.exit("An earlier generation did not finish: drop and create the database again, then rerun.")
    else:
        print("reusing the generated data (drop the database to generate again)")
    total = Member.objects.count()
    leaf = (
        Branch.objects.filter(path__startswith=root.path, kind=BranchKind.BRANCH)
        .order_by("-member_count", "path")
        .first()
    )
    print(
        f"{total:,} member records, {Branch.objects.count():,} branches; "
        f"secretary's branch: {leaf.name} ({leaf.member_count} members)"
    )

    if not args.skip_refresh:
        started = time.perf_counter()
        try:
            call_command("refresh_stats", verbosity=0)
            print(f"\nrefresh_stats: {time.perf_counter() - started:.1f} s")
        except Exception as exc:  # the command may not exist yet; the timings below still mean something
            print(f"\nrefresh_stats unavailable: {exc!r}")

    officer = user_with_role("dash-bench-officer", Role.OFFICER, root)
    secretary = user_with_role("dash-bench-secretary", Role.SECRETARY, leaf)
    start, end = today.replace(month=1, day=1), today
    client = Client()
    url = dashboard_url()

    try:
        from config.dashboard.figures import dashboard_tables
    except ImportError as exc:
        dashboard_tables = None
        print(f"dashboard_tables unavailable: {exc!r}")

    rows = []
    for label, user, branch in (("officer, top", officer, root), ("secretary, branch", secretary, leaf)):
        if dashboard_tables is not None:

            def tables(user=user, branch=branch):
                fresh = User.objects.get(pk=user.pk)  # role grants read afresh, as per request
                return dashboard_tables(actor=fresh, branch=branch, start=start, end=end)

            rows.append(("dashboard_tables()", label, *timed(tables, args.runs)))
        client.force_login(user)
        params = {"branch": str(branch.pk), "start": start.isoformat(), "end": end.isoformat()}

        def page(params=params, label=label):
            response = client.get(url, params)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} as {label}: {response.status_code}")

        rows.append((f"GET {url}", label, *timed(page, args.runs)))

        def annual(params=params):
            response = client.get("/reports/annual/", {"branch": params["branch"], "year": today.year})
            if response.status_code != 200:
                raise SystemExit(f"GET /reports/annual/: {response.status_code}")

        if branch == leaf:  # the summary reads one row per member; at the top it is a batch job, not a page
            rows.append(("GET /reports/annual/", label, *timed(annual, max(3, args.runs // 3))))

    print(f"\nmedian of {args.runs} runs (ms), {total:,} members")
    print(f"{'what':28} {'who':20} {'median':>9} {'fastest':>9} {'slowest':>9} {'queries':>8}")
    for what, who, median, fastest, slowest, queries in rows:
        print(f"{what:28} {who:20} {median:9.1f} {fastest:9.1f} {slowest:9.1f} {queries:8d}")


if __name__ == "__main__":
    main()
