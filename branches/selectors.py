"""Reads of the organisation tree. Every query starts from the actor's scope."""

import datetime

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.choices import BranchKind, CommitteePost
from branches.models import Branch, CommitteeSeat, RoleAssignment, Unit
from branches.permissions import branch_scope, scope_paths


def _with_rule_facts(qs):
    """Annotate what the rule checks need, so a page of branches costs no query per row."""
    secretary = CommitteeSeat.objects.filter(
        branch=OuterRef("pk"), post=CommitteePost.SECRETARY, ended_on__isnull=True
    )
    seats = CommitteeSeat.objects.filter(branch=OuterRef("pk"), ended_on__isnull=True)
    children = Branch.objects.filter(parent=OuterRef("pk"))
    units = Branch.units.through.objects.filter(branch_id=OuterRef("pk"), unit__deleted_at__isnull=True)
    return qs.annotate(
        seat_count=_subquery_count(seats, "branch"),
        unit_count=_subquery_count(units, "branch"),
        child_count=_subquery_count(children, "parent"),
        has_secretary=Exists(secretary),
        secretary_standing_since=Subquery(secretary.order_by("-started_on").values("party_standing_since")[:1]),
    )


def _subquery_count(qs, group_field: str):
    """A correlated COUNT subquery: evaluated only for the rows a page returns, unlike JOIN + GROUP BY."""
    counted = qs.order_by().values(group_field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def branch_list(*, actor, perm: str = "branches.view"):
    """Branches the actor may see, with the facts the rule checks need."""
    qs = branch_scope(actor, perm).select_related("parent")
    return _with_rule_facts(qs).order_by("path")


def branch_children(*, actor, parent: Branch | None):
    """Children of `parent` in scope, or the tops of the actor's scope when parent is None."""
    qs = branch_list(actor=actor)
    if parent is not None:
        return qs.filter(parent=parent)
    paths = scope_paths(actor, "branches.view")
    if paths is None:
        return qs.filter(parent__isnull=True)
    return qs.filter(path__in=paths)


def branch_search(*, actor, text: str, limit: int = 20):
    return branch_list(actor=actor).filter(name__icontains=text.strip())[:limit]


def branch_ancestors(*, branch: Branch):
    """The chain above a branch, root first, in one query."""
    ids = branch.ancestor_ids()[:-1]
    by_hex = {b.id.hex: b for b in Branch.objects.filter(path__in=_prefixes(branch.path)[:-1])}
    return [by_hex[i] for i in ids if i in by_hex]


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def branch_current_seats(*, branch: Branch):
    return branch.seats.filter(ended_on__isnull=True).select_related("user").order_by("post", "started_on")


def branch_role_holders(*, branch: Branch, roles: list[str]):
    return RoleAssignment.objects.filter(branch=branch, role__in=roles).select_related("user")


def role_assignment_list(*, user):
    """The roles a user holds, with their branches (live ones only), for the header and home page."""
    return (
        RoleAssignment.objects.filter(user_id=user.pk, branch__deleted_at__isnull=True)
        .select_related("branch")
        .order_by("branch__path", "role")
    )


def unit_list(*, actor, perm: str = "units.view"):
    return Unit.objects.filter(branch__in=branch_scope(actor, perm)).select_related("branch")


def branch_warnings(branch: Branch, *, today: datetime.date | None = None) -> list[dict]:
    """Rule checks of DOMAIN.md §2 as warnings: {"code", "message"}. Warn, never block.

    Uses the annotations of `branch_list` when present, otherwise counts with a few queries.
    """
    rules = settings.BRANCH_RULES
    today = today or timezone.localdate()
    seat_count = getattr(branch, "seat_count", None)
    if seat_count is None:
        seat_count = branch.seats.filter(ended_on__isnull=True).count()
    unit_count = getattr(branch, "unit_count", None)
    if unit_count is None:
        unit_count = branch.units.filter(deleted_at__isnull=True).count()
    has_secretary = getattr(branch, "has_secretary", None)
    standing = getattr(branch, "secretary_standing_since", None)
    if has_secretary is None:
        seat = branch.seats.filter(post=CommitteePost.SECRETARY, ended_on__isnull=True).first()
        has_secretary, standing = seat is not None, seat.party_standing_since if seat else None

    out: list[dict] = []

    def warn(code, message):
        out.append({"code": code, "message": str(message)})

    is_branch = branch.kind == BranchKind.BRANCH
    full, total = branch.full_member_count, branch.member_count
    if is_branch and full < rules["min_full_members"] and not branch.is_joint:
        warn(
            "too_few_full_members",
            _("Fewer than %(n)d full members: join other units in a joint branch.") % {"n": rules["min_full_members"]},
        )
    if branch.is_joint and unit_count > rules["joint_max_units"]:
        warn(
            "joint_too_many_units",
            _("A joint branch should cover at most %(n)d units.") % {"n": rules["joint_max_units"]},
        )
    if is_branch and total > rules["general_branch_members"]:
        warn(
            "over_100_members",
            _("Over %(n)d members: a grassroots committee may be set up, with approval.")
            % {"n": rules["general_branch_members"]},
        )
    elif is_branch and total > rules["max_members"]:
        warn("over_50_members", _("Over %(n)d members: a general branch may be set up.") % {"n": rules["max_members"]})
    if branch.kind in (BranchKind.BRANCH, BranchKind.GENERAL_BRANCH):
        if full >= rules["committee_from_full_members"]:
            if seat_count < rules["committee_min"]:
                warn(
                    "committee_needed",
                    _("With %(n)d or more full members a committee of 3 to 5 is needed.")
                    % {"n": rules["committee_from_full_members"]},
                )
            elif seat_count > rules["committee_max"]:
                warn(
                    "committee_too_large", _("A committee has at most %(n)d members.") % {"n": rules["committee_max"]}
                )
        elif seat_count > 1:
            warn(
                "committee_not_allowed",
                _("With fewer than %(n)d full members a branch has a secretary, not a committee.")
                % {"n": rules["committee_from_full_members"]},
            )
    if branch.kind != BranchKind.GROUP and not has_secretary:
        warn("no_secretary", _("No current secretary is recorded."))
    elif standing and standing > _years_before(today, rules["secretary_min_standing_years"]):
        warn("secretary_standing_short", _("The secretary has less than one year of party standing."))
    if branch.is_temporary:
        warn(
            "temporary_limits",
            _("A temporary branch may not develop members, collect dues, elect delegates or hold re-elections."),
        )
    if branch.term_expires_on:
        if branch.term_expires_on < today:
            warn(
                "term_expired",
                _("The term expired on %(date)s; an election is due.") % {"date": branch.term_expires_on.isoformat()},
            )
        elif branch.term_expires_on <= _months_after(today, rules["term_reminder_months"][0]):
            warn("term_expiring", _("The term expires on %(date)s.") % {"date": branch.term_expires_on.isoformat()})
    return out


def _years_before(day: datetime.date, years: int) -> datetime.date:
    from dateutil.relativedelta import relativedelta

    return day - relativedelta(years=years)


def _months_after(day: datetime.date, months: int) -> datetime.date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)
