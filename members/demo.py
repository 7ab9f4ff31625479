"""Demo data of the members app, plugged into `manage.py seed_demo` (see its `demo_extend_all` hook).

`demo_extend(demo)` adds, through the actions, what the demo logins need to see the members features:
member records at the two 小象外卖 stations (the demo secretary, organiser and member among them), notices,
an open secret-ballot decision with some ballots in, a closed decision with its result, this year's open
appraisal round with two self-assessments, and this month's dues. Idempotent: members are found again by
`external_ref`, notices and votes by their branch and fixed title, the round by branch and year, payments
by the months already paid. Dates are relative to today, so a fresh demo looks alive whatever the day.
"""

import datetime
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from celery import current_app
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from stdnum.cn import ric

from branches.actions import branch_member_counts_adjust
from branches.demo import DEMO_EMAIL_DOMAIN, DemoResult
from branches.models import Branch, Unit
from core.models import User
from members.actions import appraisal as appraisal_actions
from members.actions import dues as dues_actions
from members.actions import notices as notice_actions
from members.actions import votes as vote_actions
from members.actions.records import member_create
from members.choices import Education, MemberCategory, Occupation
from members.models import AppraisalRound, DuesAssessment, DuesPaidMonth, Member, Notice, Platform, Vote
from members.models.dues import DuesBaseKind, PaymentMethod
from members.models.notices import NoticeAudience, NoticeCategory
from members.models.votes import DecisionChoice, VoteKind

#: The branch whose demo logins (secretary, organiser, member) are members there.
HOME = "xx_binhe"


@dataclass(frozen=True)
class DemoMember:
    key: str
    branch: str
    name: str
    #: the first six digits of the ID number (where the person was registered at birth)
    region: str
    born: datetime.date
    male: bool
    #: a full member's joining date; None: a probationary member who joined `months_ago` months ago
    joined: datetime.date | None
    education: str
    occupation: str
    job_title: str
    platforms: tuple[str, ...] = ()
    #: the demo login of this member (demo_build's username), else an account made here without a password
    login: str = ""
    months_ago: int = 0
    #: the ID number's sequence digits (parity gives the sex)
    sequence: int = 21


# The counts match what demo_build sets on these branches (11 with 9 full, 6 with 5 full), so the figures
# shown before and after the records exist are the same.
DEMO_MEMBERS = [
    # 小象外卖滨河站党支部: the demo secretary, organiser and member
    DemoMember("zhangwei", HOME, "张伟", "330106", datetime.date(1986, 3, 14), True, datetime.date(2012, 6, 28),
               Education.BACHELOR, Occupation.NON_PUBLIC_STAFF, "站长", ("eleme",), login="secretary"),
    DemoMember("lina", HOME, "李娜", "330104", datetime.date(1991, 9, 2), False, datetime.date(2016, 5, 20),
               Education.COLLEGE, Occupation.NON_PUBLIC_STAFF, "调度主管", ("eleme",), login="organiser"),
    DemoMember("zhaolei", HOME, "赵磊", "340121", datetime.date(1994, 11, 23), True, datetime.date(2019, 7, 1),
               Education.COLLEGE, Occupation.DELIVERY_RIDER, "骑手队长", ("eleme", "meituan")),
    DemoMember("liuyang", HOME, "刘洋", "412726", datetime.date(1995, 4, 8), True, datetime.date(2020, 6, 30),
               Education.HIGH_SCHOOL, Occupation.DELIVERY_RIDER, "骑手", ("eleme",), login="member"),
    DemoMember("wangfang", HOME, "王芳", "342222", datetime.date(1990, 1, 17), False, datetime.date(2015, 12, 18),
               Education.SECONDARY_VOCATIONAL, Occupation.DELIVERY_RIDER, "骑手", ("eleme", "dada")),
    DemoMember("chengang", HOME, "陈刚", "513030", datetime.date(1988, 8, 30), True, datetime.date(2011, 7, 1),
               Education.HIGH_SCHOOL, Occupation.DELIVERY_RIDER, "骑手", ("meituan",)),
    DemoMember("yangfan", HOME, "杨帆", "362422", datetime.date(1997, 2, 11), True, datetime.date(2021, 11, 5),
               Education.BACHELOR, Occupation.DELIVERY_RIDER, "骑手", ("eleme",)),
    DemoMember("huangzhiming", HOME, "黄志明", "452601", datetime.date(1983, 10, 6), True, datetime.date(2008, 3, 12),
               Education.JUNIOR_HIGH, Occupation.DELIVERY_RIDER, "骑手", ("eleme", "shansong")),
    DemoMember("zhouxiaoyan", HOME, "周小燕", "430521", datetime.date(1993, 6, 19), False, datetime.date(2018, 9, 26),
               Education.COLLEGE, Occupation.NON_PUBLIC_STAFF, "客服专员", ()),
    DemoMember("wuhao", HOME, "吴昊", "341125", datetime.date(1999, 12, 3), True, None,
               Education.SECONDARY_VOCATIONAL, Occupation.DELIVERY_RIDER, "骑手", ("eleme",), months_ago=5),
    DemoMember("xujing", HOME, "徐静", "330102", datetime.date(1998, 5, 27), False, None,
               Education.BACHELOR, Occupation.NON_PUBLIC_STAFF, "站点运营", (), months_ago=2),
    # 小象外卖柳岸站党支部: 孙浩, its secretary, joined eight months ago (see DEMO_SEATS)
    DemoMember("sunhao", "xx_liuan", "孙浩", "330106", datetime.date(1992, 7, 15), True, None,
               Education.COLLEGE, Occupation.NON_PUBLIC_STAFF, "站长", ("eleme",), months_ago=8, sequence=33),
    DemoMember("mali", "xx_liuan", "马丽", "410526", datetime.date(1989, 2, 24), False, datetime.date(2013, 6, 21),
               Education.HIGH_SCHOOL, Occupation.DELIVERY_RIDER, "骑手", ("eleme",)),
    DemoMember("hejianhua", "xx_liuan", "何建华", "510922", datetime.date(1985, 12, 9), True,
               datetime.date(2010, 12, 1), Education.JUNIOR_HIGH, Occupation.DELIVERY_RIDER, "骑手",
               ("meituan", "eleme"), sequence=45),
    DemoMember("zhengkai", "xx_liuan", "郑凯", "412726", datetime.date(1996, 9, 13), True, datetime.date(2022, 5, 4),
               Education.COLLEGE, Occupation.DELIVERY_RIDER, "骑手", ("eleme",), sequence=57),
    DemoMember("xieting", "xx_liuan", "谢婷", "362422", datetime.date(1994, 3, 29), False, datetime.date(2017, 10, 10),
               Education.BACHELOR, Occupation.NON_PUBLIC_STAFF, "站点运营", ()),
    DemoMember("handong", "xx_liuan", "韩冬", "452601", datetime.date(1987, 1, 5), True, datetime.date(2014, 7, 1),
               Education.HIGH_SCHOOL, Occupation.DELIVERY_RIDER, "骑手", ("eleme", "dada"), sequence=69),
]  # fmt: skip

#: Full members of HOME who have already voted: in the closed decision (5 for, 1 abstaining) and in the
#: open one (the demo member login has not: they can try it).
CLOSED_VOTE_BALLOTS = {
    "zhangwei": DecisionChoice.FOR,
    "lina": DecisionChoice.FOR,
    "zhaolei": DecisionChoice.FOR,
    "liuyang": DecisionChoice.FOR,
    "chengang": DecisionChoice.FOR,
    "wangfang": DecisionChoice.ABSTAIN,
}
OPEN_VOTE_BALLOTS = {"zhangwei": DecisionChoice.FOR, "lina": DecisionChoice.FOR, "wangfang": DecisionChoice.AGAINST}

OPEN_VOTE_TITLE = "关于设立骑手爱心驿站并安排党员轮值的决议"
CLOSED_VOTE_TITLE = "关于推荐赵磊同志为区级优秀共产党员人选的决定"

# (branch, title, audience, body, published how many days ago)
DEMO_NOTICES = [
    (HOME, "关于召开本季度党员大会的通知", NoticeAudience.MEMBERS,
     "全体党员：支部定于本周五晚 8 点在滨河站骑手驿站召开党员大会，议题为学习近期重要讲话精神、"
     "讨论骑手爱心驿站轮值安排。请合理安排接单时间，准时参加；确有困难的请向支部书记请假。", 1),
    (HOME, "小象外卖滨河站党支部党务公开（上半年工作情况）", NoticeAudience.PUBLIC,
     "上半年支部共召开党员大会 2 次、支委会 6 次、党课 2 次，开展“骑手暖心”志愿服务 4 次，"
     "协助站点解决骑手午休场地问题。欢迎群众监督，意见可向支部书记反映。", 3),
    ("delivery", "关于在快递外卖行业开展党员“亮身份、作表率”活动的通知", NoticeAudience.MEMBERS,
     "各党支部：请组织党员在配送服务中佩戴党员徽章、主动亮明身份，在恶劣天气保供、文明骑行、"
     "帮扶新骑手等方面发挥先锋模范作用。各支部于月底前报送活动开展情况。", 5),
]  # fmt: skip

SELF_ASSESSMENTS = {
    "zhangwei": "本年度带领支部按时完成“三会一课”，推动站点设立骑手休息点。不足是理论学习不够系统，"
    "明年将每月至少参加一次集中学习。",
    "zhaolei": "作为骑手队长，带头文明骑行，全年零投诉，帮带新骑手 6 人。不足是参加组织生活有两次迟到，今后改进。",
}

#: Monthly salary (after tax) the dues are assessed on, by member; members left out are not assessed.
DUES_BASES = {
    "zhangwei": Decimal("8600"),
    "lina": Decimal("6800"),
    "zhaolei": Decimal("7200"),
    "liuyang": Decimal("6500"),
    "wangfang": Decimal("5900"),
    "chengang": Decimal("6100"),
    "yangfan": Decimal("5600"),
    "huangzhiming": Decimal("4800"),
    "zhouxiaoyan": Decimal("4500"),
}
#: Of those, the ones who have paid this month's dues (the others show up as arrears).
DUES_PAID = ["zhangwei", "lina", "zhaolei", "liuyang", "wangfang", "chengang"]


def _ref(key: str) -> str:
    return f"demo:member:{key}"


def citizen_id(spec: DemoMember) -> str:
    """A valid ID number (GB 11643 check digit) for the spec: region, birth date, sequence, sex."""
    sequence = spec.sequence * 10 + (1 if spec.male else 2)  # the last sequence digit is odd for men
    body = f"{spec.region}{spec.born:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def _phone(position: int) -> str:
    return f"1395710{position:04d}"


def _account(spec: DemoMember, demo: DemoResult) -> tuple[User | None, int]:
    """The member's login account and whether it was created (0 or 1).

    The demo logins come from demo_build; the other members get an account without a password, only so
    that their ballots and self-assessments can go through the actions as theirs. A real account with the
    same username is never taken over.
    """
    if spec.login:
        return demo.users.get(spec.login), 0
    user, created = User.objects.get_or_create(
        username=f"demo-{spec.key}",
        defaults={"display_name": spec.name, "email": f"demo-{spec.key}{DEMO_EMAIL_DOMAIN}"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if not user.email.endswith(DEMO_EMAIL_DOMAIN):
        return None, 0
    return user, int(created)


def _members(demo: DemoResult) -> tuple[dict[str, Member], int]:
    today = timezone.localdate()
    platforms = {p.code: p for p in Platform.objects.all()}
    unit = Unit.all_objects.filter(external_ref="demo:unit:xiaoxiang", deleted_at__isnull=True).first()
    members: dict[str, Member] = {}
    created = 0
    for position, spec in enumerate(DEMO_MEMBERS, start=1):
        member = Member.all_objects.filter(external_ref=_ref(spec.key)).first()
        if member is not None:
            members[spec.key] = member
            continue
        user, new_account = _account(spec, demo)
        created += new_account
        if user is not None and Member.objects.filter(user=user).exists():
            user = None  # the account already belongs to someone's record: leave it there
        if spec.joined is None:
            joined_on, full_member_on = today - relativedelta(months=spec.months_ago), None
            category = MemberCategory.PROBATIONARY
        else:
            joined_on, full_member_on = spec.joined, spec.joined + relativedelta(years=1)
            category = MemberCategory.FULL
        members[spec.key] = member_create(
            actor=None,
            branch=demo.branches[spec.branch],
            platforms=[platforms[code] for code in spec.platforms if code in platforms],
            name=spec.name,
            citizen_id=citizen_id(spec),
            phone=_phone(position),
            ethnicity="han",
            education=spec.education,
            category=category,
            joined_on=joined_on,
            full_member_on=full_member_on,
            job_title=spec.job_title,
            occupation=spec.occupation,
            unit=unit,
            shows_identity=spec.joined is not None,
            user=user,
            external_ref=_ref(spec.key),
        )
        created += 1
    return members, created


def _counts_follow_records(branches: list[Branch]) -> None:
    """Make the branches' member counts those of their records.

    demo_build hard-sets counts on the branches it creates, and member_create adds each record to them:
    without this the demo's members would count twice. A no-op once the counts agree.
    """
    deltas = {}
    for branch in branches:
        counted = Branch.all_objects.values("member_count", "full_member_count").get(pk=branch.pk)
        current = Member.objects.filter(branch=branch).current()
        members, full = current.count(), current.filter(category=MemberCategory.FULL).count()
        delta = (members - counted["member_count"], full - counted["full_member_count"])
        if any(delta):
            deltas[branch.pk] = delta
    branch_member_counts_adjust(deltas=deltas)


def _notices(demo: DemoResult) -> int:
    now = timezone.now()
    created = 0
    for branch_key, title, audience, body, days_ago in DEMO_NOTICES:
        branch = demo.branches[branch_key]
        if Notice.all_objects.filter(branch=branch, title=title).exists():
            continue
        actor = demo.users.get("officer" if branch_key == "delivery" else "secretary")
        notice = notice_actions.notice_create(
            actor=actor,
            branch=branch,
            title=title,
            body=body,
            category=NoticeCategory.OTHER if audience == NoticeAudience.PUBLIC else NoticeCategory.DECISION,
            audience=audience,
            publish_from=now - datetime.timedelta(days=days_ago),
        )
        notice_actions.notice_publish(actor=actor, notice=notice)
        created += 1
    return created


def _option(vote: Vote, code: str):
    return next(o for o in vote.options.all() if o.code == code)


def _cast(vote: Vote, members: dict[str, Member], ballots: dict[str, str]) -> None:
    for key, code in ballots.items():
        member = members.get(key)
        if member is None or member.user_id is None or member.branch_id != vote.branch_id:
            continue
        vote_actions.vote_cast(actor=member.user, vote=vote, choices=[_option(vote, code)])


def _votes(demo: DemoResult, members: dict[str, Member]) -> int:
    branch = demo.branches[HOME]
    actor = demo.users.get("secretary")
    now = timezone.now()
    created = 0
    if not Vote.all_objects.filter(branch=branch, title=CLOSED_VOTE_TITLE).exists():
        vote = vote_actions.vote_create(
            actor=actor,
            branch=branch,
            kind=VoteKind.DECISION,
            title=CLOSED_VOTE_TITLE,
            description="赵磊同志担任骑手队长以来，带头文明骑行、帮带新骑手，群众评价好。支部拟推荐其为区级优秀共产党员人选。",
            opens_at=now - datetime.timedelta(minutes=1),
            closes_at=now + datetime.timedelta(days=3),
        )
        vote = vote_actions.vote_open(actor=actor, vote=vote)
        _cast(vote, members, CLOSED_VOTE_BALLOTS)
        vote_actions.vote_close(actor=actor, vote=vote)  # closed early: the quorum is in
        created += 1
    if not Vote.all_objects.filter(branch=branch, title=OPEN_VOTE_TITLE).exists():
        vote = vote_actions.vote_create(
            actor=actor,
            branch=branch,
            kind=VoteKind.DECISION,
            title=OPEN_VOTE_TITLE,
            description="在滨河站骑手驿站设立爱心驿站，提供饮水、充电和应急药品，由党员每周轮流值守。请全体正式党员表决。",
            secret=True,
            opens_at=now - datetime.timedelta(minutes=1),
            closes_at=now + datetime.timedelta(days=7),
        )
        vote = vote_actions.vote_open(actor=actor, vote=vote)
        _cast(vote, members, OPEN_VOTE_BALLOTS)
        created += 1
    return created


def _appraisal(demo: DemoResult, members: dict[str, Member]) -> int:
    branch = demo.branches[HOME]
    today = timezone.localdate()
    if AppraisalRound.all_objects.filter(branch=branch, year=today.year).exists():
        return 0
    actor = demo.users.get("secretary")
    appraisal_round = appraisal_actions.appraisal_round_create(
        actor=actor,
        branch=branch,
        year=today.year,
        self_assessment_due=today + datetime.timedelta(days=14),
        rating_due=today + datetime.timedelta(days=21),
        note="对照党员标准，结合配送服务中的表现开展自评和互评。",
    )
    appraisal_round = appraisal_actions.appraisal_round_open(actor=actor, appraisal_round=appraisal_round)
    for key, text in SELF_ASSESSMENTS.items():
        member = members.get(key)
        if member is not None and member.user_id is not None and member.branch_id == branch.pk:
            appraisal_actions.appraisal_self_assess(actor=member.user, appraisal_round=appraisal_round, text=text)
    return 1


def _dues(demo: DemoResult, members: dict[str, Member]) -> int:
    """This year's assessments and this month's payments (receipt numbers DEMO<yyyymm><nn>)."""
    today = timezone.localdate()
    month = today.replace(day=1)
    actor = demo.users.get("secretary")
    created = 0
    for key, base in DUES_BASES.items():
        member = members.get(key)
        if member is None or member.branch.is_temporary:
            continue
        if not DuesAssessment.objects.filter(member=member, year=today.year).exists():
            dues_actions.dues_assess(
                actor=actor, member=member, year=today.year, base_kind=DuesBaseKind.SALARY, base_amount=base
            )
            created += 1
    for position, key in enumerate(DUES_PAID, start=1):
        member = members.get(key)
        if member is None or DuesPaidMonth.objects.filter(member=member, month=month).exists():
            continue
        assessment = DuesAssessment.objects.filter(member=member, year=today.year).first()
        if assessment is None:
            continue
        dues_actions.dues_payment_record(
            actor=actor,
            member=member,
            period_from=month,
            period_to=month,
            amount=assessment.effective_amount,
            method=PaymentMethod.WECHAT if position % 2 else PaymentMethod.ALIPAY,
            receipt_number=f"DEMO{month:%Y%m}{position:02d}",
            paid_on=min(today, month + datetime.timedelta(days=position)),
        )
        created += 1
    return created


@contextmanager
def _quiet_and_in_process():
    """Run the demo's writes without a broker and without sending mail or texts.

    The tasks the actions queue (a notice's announcement) run here and now, so seed_demo works before any
    broker or worker is up and the demo accounts find everything in their in-app inbox at once. E-mails
    and texts are dropped: the demo addresses are fictional, and a console backend would print them into
    the logins that seed_demo prints. Both are restored afterwards.
    """
    conf = current_app.conf
    before = conf.task_always_eager
    conf.task_always_eager = True
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend", SMS_BACKEND="core.sms.NullSmsBackend"
        ):
            yield
    finally:
        conf.task_always_eager = before


def demo_extend(demo: DemoResult) -> int:
    """Add the members app's demo data to `demo` (what is missing only); returns how many records were made."""
    with _quiet_and_in_process():
        # The on-commit hooks (notifications, the notices' announcement) run when _extend's transaction
        # commits, still inside the context.
        return _extend(demo)


@transaction.atomic
def _extend(demo: DemoResult) -> int:
    members, created = _members(demo)
    _counts_follow_records([demo.branches[key] for key in sorted({spec.branch for spec in DEMO_MEMBERS})])
    # Fresh rows with their accounts; a demo record deleted since an earlier run is left out of what follows.
    alive = Member.objects.select_related("user", "branch").in_bulk([m.pk for m in members.values()])
    members = {key: alive[m.pk] for key, m in members.items() if m.pk in alive}
    created += _notices(demo)
    created += _votes(demo, members)
    created += _appraisal(demo, members)
    created += _dues(demo, members)
    return created
