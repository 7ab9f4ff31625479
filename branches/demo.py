"""Demo and benchmark data for `manage.py seed_demo`.

Two builders, both idempotent:
- `demo_build()` writes a small, believable organisation through the actions (so the demo has the same
  audit trail and change feed as real data). Records are found again by `external_ref` ("demo:<key>"),
  users by username; anything that already exists is left as it is.
- `tree_build()` bulk-inserts a generated tree of N branches under the demo district for benchmarks.
  Ids are uuid5 values of (seed, position) and the generator is a stream seeded by `seed`, so the first
  N nodes are the same whatever N: a second run inserts only the ids that are missing.
"""

import base64
import datetime
import hashlib
import itertools
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from stdnum.cn import uscc

from branches import actions
from branches.choices import BranchBasis, BranchKind, CommitteePost, EconomicType, Role, UnitSize, UnitType
from branches.models import TERM_YEARS, Branch, CommitteeSeat, Unit
from core.models import ChangeRecord, User

#: Password of every demo user (printed by the command; demo data only).
DEMO_PASSWORD = "Branchwork-demo-2025"

#: E-mail domain of the demo accounts: how a later run tells them from real accounts with the same username.
DEMO_EMAIL_DOMAIN = "@demo.branchwork.local"

#: Namespace of the generated tree's ids (uuid5 of "<seed>:<position>").
TREE_NAMESPACE = uuid.UUID("6f1d9a52-3b8e-4c47-9a0e-2f5b7c1d8e34")

#: Administrative division code used in the demo's credit codes (a fictional district).
DIVISION = "330199"


def demo_totp_secret(username: str) -> str:
    """The fixed TOTP secret of a demo user (base32), derived from the username so it can be printed."""
    digest = hashlib.sha1(f"branchwork-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest).decode("ascii")


def totp_code_now(secret: str) -> tuple[str, int]:
    """The TOTP code valid now and the seconds it stays valid, computed as allauth checks it."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    now = int(time.time())
    period = app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, now // period)), period - now % period


def organisation_code(key: str) -> str:
    """A 9-character organisation code (GB 11714: 8 digits + check character), stable for `key`."""
    body = f"{int(hashlib.sha1(key.encode()).hexdigest(), 16) % 10**8:08d}"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(key: str, *, department: str = "9", org_type: str = "1") -> str:
    """A valid unified social credit code: registering department, type, division, organisation code, check."""
    body = f"{department}{org_type}{DIVISION}{organisation_code(key)}"
    return body + uscc.calc_check_digit(body)


#
# The hand-made demo
#
@dataclass
class DemoBranch:
    key: str
    parent: str | None
    name: str
    kind: str
    basis: str
    #: (years, months) before today of the last election; None: no term recorded
    elected_ago: tuple[int, int] | None
    members: int = 0
    full_members: int = 0
    flags: dict = field(default_factory=dict)
    address: str = ""


DEMO_BRANCHES = [
    DemoBranch("district", None, "滨河区新兴领域党委", BranchKind.COMMITTEE, BranchBasis.AREA, (2, 0),
               address="滨河区人民路 1 号"),
    # Elected 4 years 8 months ago: the 5-year term ends in 4 months (6-month reminder already due).
    DemoBranch("delivery", "district", "滨河区快递外卖行业党委", BranchKind.COMMITTEE, BranchBasis.PLATFORM, (4, 8),
               address="滨河区人民路 1 号 3 楼"),
    DemoBranch("xx_binhe", "delivery", "小象外卖滨河站党支部", BranchKind.BRANCH, BranchBasis.PLATFORM, (1, 0),
               members=11, full_members=9, address="滨河区滨河路 88 号骑手驿站"),
    DemoBranch("xx_binhe_g1", "xx_binhe", "小象外卖滨河站第一党小组", BranchKind.GROUP, BranchBasis.PLATFORM, None),
    DemoBranch("xx_binhe_g2", "xx_binhe", "小象外卖滨河站第二党小组", BranchKind.GROUP, BranchBasis.PLATFORM, None),
    # Elected 2 years 10 months ago: the 3-year term ends in 2 months.
    DemoBranch("xx_liuan", "delivery", "小象外卖柳岸站党支部", BranchKind.BRANCH, BranchBasis.PLATFORM, (2, 10),
               members=6, full_members=5, address="滨河区柳岸街 16 号"),
    DemoBranch("yh_general", "delivery", "远航快递滨河党总支", BranchKind.GENERAL_BRANCH, BranchBasis.PLATFORM, (1, 2),
               address="滨河区物流大道 9 号"),
    # Elected 3 years 1 month ago: the term has expired.
    DemoBranch("yh_hub", "yh_general", "远航快递滨河分拨中心党支部", BranchKind.BRANCH, BranchBasis.PLATFORM, (3, 1),
               members=34, full_members=30, address="滨河区物流大道 9 号分拨中心"),
    DemoBranch("yh_xingang", "yh_general", "远航快递新港营业部党支部", BranchKind.BRANCH, BranchBasis.PLATFORM, (0, 9),
               members=3, full_members=2, address="滨河区新港路 201 号"),
    DemoBranch("mobile", "delivery", "快递外卖行业流动党员党支部", BranchKind.BRANCH, BranchBasis.PLATFORM, (1, 6),
               members=16, full_members=14),
    DemoBranch("chain", "delivery", "同城配送产业链功能型党支部", BranchKind.BRANCH, BranchBasis.INDUSTRY_CHAIN,
               (0, 11), members=8, full_members=6, flags={"is_functional": True}),
    DemoBranch("building", "district", "滨河数码大厦楼宇联合党支部", BranchKind.BRANCH, BranchBasis.BUILDING, (2, 3),
               members=9, full_members=8, flags={"is_joint": True}, address="滨河区科技路 100 号数码大厦"),
    DemoBranch("project", "district", "滨河物流园建设项目临时党支部", BranchKind.BRANCH, BranchBasis.PROJECT_CHAIN,
               None, members=4, full_members=4, flags={"is_temporary": True}, address="滨河物流园工地项目部"),
]  # fmt: skip

# (key, owning branch, name, unit type, size, economic type, has union, covered by)
DEMO_UNITS = [
    ("xiaoxiang", "xx_binhe", "滨河小象网络配送服务有限公司", UnitType.ENTERPRISE, UnitSize.MEDIUM,
     EconomicType.PRIVATE, True, ["xx_binhe", "xx_liuan"]),
    ("yuanhang", "yh_general", "远航速运（滨河）有限公司", UnitType.ENTERPRISE, UnitSize.LARGE,
     EconomicType.MIXED, True, ["yh_general", "yh_hub", "yh_xingang"]),
    ("yunqi", "building", "滨河云启软件科技有限公司", UnitType.ENTERPRISE, UnitSize.SMALL,
     EconomicType.PRIVATE, False, ["building"]),
    ("qinghe", "building", "青禾文化传媒有限公司", UnitType.ENTERPRISE, UnitSize.MICRO,
     EconomicType.PRIVATE, False, ["building"]),
    ("mingtu", "building", "明途人力资源服务有限公司", UnitType.ENTERPRISE, UnitSize.SMALL,
     EconomicType.PRIVATE, False, ["building"]),
    ("property", "building", "滨河数码大厦物业管理有限公司", UnitType.ENTERPRISE, UnitSize.SMALL,
     EconomicType.STATE_OWNED, True, ["building"]),
    ("coldchain", "chain", "滨河同城冷链仓储有限公司", UnitType.ENTERPRISE, UnitSize.MEDIUM,
     EconomicType.PRIVATE, False, ["chain"]),
    ("association", "chain", "滨河区即时配送行业协会", UnitType.SOCIAL_ORGANISATION, UnitSize.MICRO,
     EconomicType.OTHER, False, ["chain"]),
]  # fmt: skip

# (branch, post, holder, user account, years of party standing or None)
DEMO_SEATS = [
    ("district", CommitteePost.SECRETARY, "陈建国", None, 25),
    ("delivery", CommitteePost.SECRETARY, "刘海燕", None, 18),
    ("delivery", CommitteePost.ORGANISATION, "王志强", "officer", 12),
    ("xx_binhe", CommitteePost.SECRETARY, "张伟", "secretary", 8),
    ("xx_binhe", CommitteePost.ORGANISATION, "李娜", "organiser", 5),
    ("xx_binhe", CommitteePost.PROPAGANDA, "赵磊", None, 3),
    # Standing under one year: the rule check warns.
    ("xx_liuan", CommitteePost.SECRETARY, "孙浩", None, 0),
    ("yh_general", CommitteePost.SECRETARY, "周敏", None, 15),
    ("yh_hub", CommitteePost.SECRETARY, "吴强", None, 11),
    ("yh_hub", CommitteePost.DEPUTY_SECRETARY, "郑丽", None, 7),
    ("yh_hub", CommitteePost.DISCIPLINE, "冯军", None, 9),
    ("mobile", CommitteePost.SECRETARY, "黄晓东", None, 10),
    ("mobile", CommitteePost.ORGANISATION, "何静", None, 4),
    ("mobile", CommitteePost.PROPAGANDA, "马超", None, 6),
    ("chain", CommitteePost.SECRETARY, "林芳", None, 9),
    ("building", CommitteePost.SECRETARY, "郭涛", None, 13),
    ("building", CommitteePost.ORGANISATION, "罗丹", None, 4),
    ("building", CommitteePost.PROPAGANDA, "梁宇", None, 2),
    ("project", CommitteePost.SECRETARY, "宋杰", None, 16),
]

# (username, display name, role, branch, TOTP required)
DEMO_USERS = [
    ("admin", "系统管理员", Role.ADMIN, "district", True),
    ("officer", "王志强", Role.OFFICER, "delivery", True),
    ("secretary", "张伟", Role.SECRETARY, "xx_binhe", False),
    ("organiser", "李娜", Role.ORGANISER, "xx_binhe", False),
    ("caseworker", "陈晓梅", Role.CASEWORKER, "delivery", False),
    ("member", "刘洋", Role.MEMBER, "xx_binhe", False),
]


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    branch: str
    totp_secret: str = ""
    #: False when the user already had an authenticator with another secret (set up by hand)
    totp_matches: bool = True
    #: True when an account that is not a demo account has this username; it was left alone
    foreign: bool = False


@dataclass
class DemoResult:
    """What demo_build made, handed to each app's `demo_extend(demo)` hook (see seed_demo)."""

    branches: dict[str, Branch]
    logins: list[DemoLogin]
    created: int = 0
    #: the demo accounts by username (a real account that has a demo username is left out)
    users: dict[str, User] = field(default_factory=dict)


def _ref(key: str) -> str:
    return f"demo:{key}"


def _years_ago(today, years: int, months: int = 0):
    return today - relativedelta(years=years, months=months)


@transaction.atomic
def demo_build() -> DemoResult:
    """Create the demo organisation, units, seats, users, roles and TOTP authenticators that are missing."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from allauth.mfa.utils import decrypt

    today = timezone.localdate()
    created = 0
    branches: dict[str, Branch] = {}
    for spec in DEMO_BRANCHES:
        branch = Branch.all_objects.filter(external_ref=_ref(spec.key)).first()
        if branch is None:
            branch = actions.branch_create(
                actor=None,
                parent=branches[spec.parent] if spec.parent else None,
                name=spec.name,
                kind=spec.kind,
                basis=spec.basis,
                address=spec.address,
                founded_on=_years_ago(today, 6),
                elected_on=_years_ago(today, *spec.elected_ago) if spec.elected_ago else None,
                external_ref=_ref(spec.key),
                **spec.flags,
            )
            # Placeholder counts for branches without member records. Where an app's demo_extend adds real
            # records (members/demo.py), it brings the counts back in line with them.
            Branch.objects.filter(pk=branch.pk).update(member_count=spec.members, full_member_count=spec.full_members)
            created += 1
        branches[spec.key] = branch

    coverage: dict[str, list[Unit]] = {}
    for key, owner, name, unit_type, size, economic_type, has_union, covered_by in DEMO_UNITS:
        unit = Unit.all_objects.filter(external_ref=_ref(f"unit:{key}")).first()
        if unit is None:
            social = unit_type == UnitType.SOCIAL_ORGANISATION
            unit = actions.unit_create(
                actor=None,
                branch=branches[owner],
                name=name,
                credit_code=credit_code(key, department="5" if social else "9", org_type="1"),
                unit_type=unit_type,
                size=size,
                economic_type=economic_type,
                has_union=has_union,
                address=branches[owner].address,
                external_ref=_ref(f"unit:{key}"),
            )
            created += 1
        for branch_key in covered_by:
            coverage.setdefault(branch_key, []).append(unit)
    for branch_key, units in coverage.items():
        branch = branches[branch_key]
        if set(branch.units.values_list("pk", flat=True)) != {u.pk for u in units}:
            branches[branch_key] = actions.branch_update(actor=None, branch=branch, units=units)

    users: dict[str, User] = {}
    logins: list[DemoLogin] = []
    for username, display_name, role, branch_key, needs_totp in DEMO_USERS:
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={
                "display_name": display_name,
                "email": f"{username}{DEMO_EMAIL_DOMAIN}",
                "is_staff": role == Role.ADMIN,
                "is_superuser": role == Role.ADMIN,
            },
        )
        login = DemoLogin(username, DEMO_PASSWORD, role, branches[branch_key].name)
        if not user.email.endswith(DEMO_EMAIL_DOMAIN):
            # Someone's real account with a demo username: never give it a demo role or a known TOTP secret.
            login.foreign = True
            logins.append(login)
            continue
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created += 1
        users[username] = user
        actions.role_grant(actor=None, user=user, role=role, branch=branches[branch_key])
        if needs_totp:
            login.totp_secret = demo_totp_secret(username)
            existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
            if existing is None:
                TOTP.activate(user, login.totp_secret)
            else:
                login.totp_matches = decrypt(existing.data.get("secret", "")) == login.totp_secret
        logins.append(login)

    for branch_key, post, holder, username, standing_years in DEMO_SEATS:
        branch = branches[branch_key]
        if CommitteeSeat.objects.filter(branch=branch, post=post, holder_name=holder).exists():
            continue
        started_on = branch.elected_on or _years_ago(today, 1)
        if standing_years == 0:  # a new secretary who joined the party eight months ago
            since, started_on = today - relativedelta(months=8), today - relativedelta(months=2)
        else:
            since = _years_ago(today, standing_years)
        actions.seat_add(
            actor=None,
            branch=branch,
            post=post,
            holder_name=holder,
            started_on=started_on,
            user=users.get(username),
            party_standing_since=since,
        )
        created += 1
    return DemoResult(branches=branches, logins=logins, created=created, users=users)


#
# The generated tree for benchmarks
#
AREAS = ["滨河", "柳岸", "新港", "东湖", "西山", "南苑", "北辰", "临江", "青石", "金桥", "望海", "梧桐"]
PLATFORMS = ["小象外卖", "远航快递", "青鸟同城", "飞驰出行", "云仓物流", "蜂巢快运", "星途货运", "易达跑腿"]
CHAIN_BASES = [BranchBasis.PLATFORM] * 6 + [BranchBasis.UNIT, BranchBasis.BUILDING, BranchBasis.BUSINESS_DISTRICT]


@dataclass
class TreeResult:
    root: Branch
    total: int
    inserted: int
    updated: int
    seconds: float


@dataclass(slots=True)
class TreeNode:
    """A generated node, kept light: Branch objects are built only for the rows that are inserted."""

    pk: uuid.UUID
    parent_pk: uuid.UUID
    path: str
    depth: int
    name: str
    kind: str
    basis: str
    is_joint: bool
    elected_on: datetime.date | None
    term_expires_on: datetime.date | None
    #: relative size of a 党支部 (0 for nodes that hold no members directly)
    weight: int = 0
    member_count: int = 0
    full_member_count: int = 0

    def to_branch(self, now: datetime.datetime) -> Branch:
        return Branch(
            id=self.pk,
            parent_id=self.parent_pk,
            path=self.path,
            depth=self.depth,
            name=self.name,
            kind=self.kind,
            basis=self.basis,
            is_joint=self.is_joint,
            elected_on=self.elected_on,
            term_expires_on=self.term_expires_on,
            member_count=self.member_count,
            full_member_count=self.full_member_count,
            version=1,
            created_at=now,
            updated_at=now,
        )


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _tree_nodes(*, seed: int, root: Branch, today: datetime.date) -> Iterator[TreeNode]:
    """An endless stream of nodes: area committees → industry committees → (general) branches → groups.

    Each node's parent comes earlier in the stream and all randomness is drawn in stream order, so any
    prefix of the stream is the same whatever its length.
    """
    rng = random.Random(seed)
    position = itertools.count()

    def node(parent, name: str, kind: str, basis: str, is_joint: bool = False) -> TreeNode:
        pk = uuid.uuid5(TREE_NAMESPACE, f"{seed}:{next(position)}")
        years = TERM_YEARS.get(kind)
        elected_on = today - datetime.timedelta(days=rng.randint(0, 365 * years + 120)) if years else None
        return TreeNode(
            pk=pk,
            parent_pk=parent.pk,
            path=f"{parent.path}{pk.hex}/",
            depth=parent.depth + 1,
            name=name,
            kind=kind,
            basis=basis,
            is_joint=is_joint,
            elected_on=elected_on,
            term_expires_on=_add_years(elected_on, years) if elected_on else None,
        )

    def with_groups(branch: TreeNode) -> Iterator[TreeNode]:
        branch.weight = rng.randint(3, 60)
        yield branch
        for g in range(rng.choice((0, 0, 1, 2, 3))):
            yield node(branch, f"{branch.name}第{g + 1}党小组", BranchKind.GROUP, branch.basis)

    for area_no in itertools.count(1):
        area = AREAS[area_no % len(AREAS)]
        committee = node(root, f"{area}第{area_no}片区党工委", BranchKind.COMMITTEE, BranchBasis.AREA)
        yield committee
        for ind_no in range(1, rng.randint(20, 40) + 1):
            platform = PLATFORMS[rng.randrange(len(PLATFORMS))]
            industry = node(
                committee,
                f"{area}{area_no}片区{platform}第{ind_no}行业党委",
                BranchKind.COMMITTEE,
                BranchBasis.PLATFORM,
            )
            yield industry
            for unit_no in range(1, rng.randint(10, 40) + 1):
                basis = CHAIN_BASES[rng.randrange(len(CHAIN_BASES))]
                label = f"{platform}{area}{area_no}-{ind_no}-{unit_no}"
                if rng.random() < 0.08:
                    general = node(industry, f"{label}党总支", BranchKind.GENERAL_BRANCH, basis)
                    yield general
                    for sub in range(1, rng.randint(2, 4) + 1):
                        yield from with_groups(node(general, f"{label}第{sub}党支部", BranchKind.BRANCH, basis))
                else:
                    joint = basis == BranchBasis.BUILDING
                    suffix = "联合党支部" if joint else "站点党支部"
                    yield from with_groups(node(industry, f"{label}{suffix}", BranchKind.BRANCH, basis, joint))


def _spread_members(nodes: list[TreeNode], members: int | None) -> None:
    """Set member counts on the branches: their own weights, or `members` split in proportion to them."""
    weighted = [n for n in nodes if n.weight]
    if not weighted:
        return
    if members is None:
        counts = [n.weight for n in weighted]
    else:
        total_weight = sum(n.weight for n in weighted)
        counts = [members * n.weight // total_weight for n in weighted]
        for i in range(members - sum(counts)):  # the remainder, one each, in tree order
            counts[i % len(counts)] += 1
    for n, count in zip(weighted, counts, strict=True):
        n.member_count = count
        n.full_member_count = count - count // 8  # about one in eight is probationary


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tree_build(*, root: Branch, count: int, seed: int, members: int | None = None) -> TreeResult:
    """Bulk-insert the first `count` nodes of the generated tree under `root` (missing ones only).

    Paths and depths are computed in Python; change records are written with `ChangeRecord.write_many`
    in the same transaction. Rows that exist already keep everything but their member counts, which
    follow `members` (bumping version and writing a change record when they change).
    """
    started = time.perf_counter()
    today = timezone.localdate()
    nodes = list(itertools.islice(_tree_nodes(seed=seed, root=root, today=today), count))
    _spread_members(nodes, members)
    now = timezone.now()
    with transaction.atomic():
        existing: dict[uuid.UUID, tuple] = {}
        for chunk in _chunks([n.pk for n in nodes], 5000):
            rows = Branch.all_objects.filter(pk__in=chunk).values_list(
                "pk", "member_count", "full_member_count", "version", "deleted_at"
            )
            existing.update({row[0]: row[1:] for row in rows})
        new = [n.to_branch(now) for n in nodes if n.pk not in existing]
        Branch.objects.bulk_create(new, batch_size=2000)
        ChangeRecord.write_many(new)

        # Live rows follow the requested member counts (dissolved ones are left alone). One UPDATE per
        # distinct pair of counts: far fewer statements than rows.
        changed: dict[tuple[int, int], list[TreeNode]] = {}
        for n in nodes:
            row = existing.get(n.pk)
            if row and row[3] is None and row[:2] != (n.member_count, n.full_member_count):
                changed.setdefault((n.member_count, n.full_member_count), []).append(n)
        updated = []
        for (member_count, full_member_count), group in changed.items():
            for chunk in _chunks(group, 5000):
                Branch.all_objects.filter(pk__in=[n.pk for n in chunk]).update(
                    member_count=member_count,
                    full_member_count=full_member_count,
                    version=F("version") + 1,
                    updated_at=now,
                )
            for n in group:
                branch = n.to_branch(now)
                branch.version = existing[n.pk][2] + 1
                updated.append(branch)
        ChangeRecord.write_many(updated)
    if new or updated:
        # Fresh planner statistics: with the ones from before a bulk load the database picks poor plans
        # until autovacuum gets round to the table.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(Branch._meta.db_table)}")
    return TreeResult(
        root=root,
        total=len(nodes),
        inserted=len(new),
        updated=len(updated),
        seconds=time.perf_counter() - started,
    )
