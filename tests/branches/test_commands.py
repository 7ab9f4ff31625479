import io
import time
import uuid
from http import HTTPStatus

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.core.management import CommandError, call_command, load_command_class
from django.db.models import Sum
from django.urls import reverse
from stdnum.cn import uscc

from branches.choices import BranchBasis, BranchKind, Role
from branches.demo import DEMO_PASSWORD, demo_totp_secret, totp_code_now
from branches.models import Branch, CommitteeSeat, RoleAssignment, Unit
from branches.selectors import branch_warnings
from core.models import AuditEntry, ChangeRecord, User
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def state() -> dict:
    """Everything seed_demo writes, to compare two runs."""
    return {
        "branches": sorted(Branch.all_objects.values_list("id", "version", "member_count", "full_member_count")),
        "units": sorted(Unit.all_objects.values_list("id", "version")),
        "seats": CommitteeSeat.objects.count(),
        "roles": RoleAssignment.objects.count(),
        "users": sorted(User.objects.values_list("username", "password")),
        "authenticators": Authenticator.objects.count(),
        "changes": ChangeRecord.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def demo_ids() -> set:
    return set(Branch.objects.filter(external_ref__startswith="demo:").values_list("pk", flat=True))


#
# seed_demo
#
def test_seed_demo_builds_every_kind_of_organisation():
    run("seed_demo")
    branches = Branch.objects.all()
    assert {b.kind for b in branches} == set(BranchKind.values)
    joint = branches.get(is_joint=True)
    assert joint.basis == BranchBasis.BUILDING
    assert joint.units.count() >= 3
    functional = branches.get(is_functional=True)
    assert functional.basis == BranchBasis.INDUSTRY_CHAIN
    assert branches.filter(name__contains="流动党员").exists()
    assert branches.filter(name__contains="快递外卖行业党委", kind=BranchKind.COMMITTEE).exists()
    root = branches.get(parent__isnull=True)
    assert root.kind == BranchKind.COMMITTEE
    for branch in branches:
        expected = Branch.path_for(branch.pk, branch.parent)
        assert (branch.path, branch.depth) == (expected, branch.parent.depth + 1 if branch.parent else 0)


def test_seed_demo_units_have_valid_credit_codes():
    run("seed_demo")
    codes = list(Unit.objects.values_list("credit_code", flat=True))
    assert len(codes) >= 5
    assert all(uscc.is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes)


def test_seed_demo_shows_expiring_and_expired_terms():
    run("seed_demo")
    codes = {w["code"] for b in Branch.objects.all() for w in branch_warnings(b)}
    assert {"term_expiring", "term_expired", "temporary_limits"} <= codes


def test_seed_demo_creates_a_user_for_every_role_with_printed_logins():
    output = run("seed_demo")
    roles = set(RoleAssignment.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    for assignment in RoleAssignment.objects.select_related("user"):
        username = assignment.user.username
        assert username in output
        assert assignment.user.check_password(DEMO_PASSWORD)
    assert DEMO_PASSWORD in output


def test_seed_demo_gives_admin_and_officer_a_working_totp(unused_codes):
    output = run("seed_demo")
    for username in ("admin", "officer"):
        secret = demo_totp_secret(username)
        assert secret in output
        authenticator = Authenticator.objects.get(user__username=username, type=Authenticator.Type.TOTP)
        code, seconds_left = totp_code_now(secret)
        if seconds_left < 2:  # don't race the end of the 30-second window
            time.sleep(seconds_left)
            code, _seconds = totp_code_now(secret)
        assert TOTP(authenticator).validate_code(code)
    assert not Authenticator.objects.filter(user__username="secretary").exists()


@pytest.fixture
def unused_codes():
    """allauth remembers used TOTP codes in the cache for the window; another test may have used this one."""
    cache.clear()


def test_seed_demo_officer_signs_in_with_the_printed_password_and_code(client, unused_codes):
    output = run("seed_demo")
    secret = demo_totp_secret("officer")
    assert secret in output
    response = client.post(reverse("account_login"), {"login": "officer", "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    code, seconds_left = totp_code_now(secret)
    if seconds_left < 2:
        time.sleep(seconds_left)
        code, _seconds = totp_code_now(secret)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == HTTPStatus.FOUND
    assert client.session.get(SESSION_KEY) == str(User.objects.get(username="officer").pk)
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_seed_demo_leaves_a_real_account_with_a_demo_username_alone():
    real = UserFactory(username="admin", email="root@example.com")
    output = run("seed_demo")
    assert "A user admin exists and is not a demo account; it was left alone." in output
    real.refresh_from_db()
    assert real.check_password("pass-word-123")
    assert not real.is_superuser
    assert not RoleAssignment.objects.filter(user=real).exists()
    assert not Authenticator.objects.filter(user=real).exists()
    assert demo_totp_secret("admin") not in output


def test_seed_demo_run_twice_changes_nothing():
    run("seed_demo")
    before = state()
    output = run("seed_demo")
    assert state() == before
    assert "0 records created" in output


def test_seed_demo_leaves_a_changed_totp_alone_and_says_so():
    run("seed_demo")
    authenticator = Authenticator.objects.get(user__username="officer", type=Authenticator.Type.TOTP)
    authenticator.data = {"secret": "JBSWY3DPEHPK3PXP"}
    authenticator.save()
    output = run("seed_demo")
    assert "officer set up another authenticator" in output
    authenticator.refresh_from_db()
    assert authenticator.data == {"secret": "JBSWY3DPEHPK3PXP"}


def test_seed_demo_generates_a_tree_of_the_requested_size():
    run("seed_demo")
    demo = demo_ids()
    output = run("seed_demo", "--branches", "300", "--members", "5000", "--seed", "7")
    generated = Branch.objects.exclude(pk__in=demo)
    assert generated.count() == 300
    assert "300 inserted" in output
    assert generated.aggregate(n=Sum("member_count"))["n"] == 5000
    assert {BranchKind.COMMITTEE, BranchKind.BRANCH, BranchKind.GROUP} <= set(generated.values_list("kind", flat=True))
    # Members belong to 党支部 only, and never more full members than members.
    assert not generated.exclude(kind=BranchKind.BRANCH).filter(member_count__gt=0).exists()
    assert all(b.full_member_count <= b.member_count for b in generated)
    by_id = {b.pk: b for b in Branch.objects.all()}
    for branch in generated:
        parent = by_id[branch.parent_id]
        assert branch.path == f"{parent.path}{branch.pk.hex}/"
        assert branch.depth == parent.depth + 1
    records = ChangeRecord.objects.filter(object_id__in=generated.values("pk"))
    assert records.count() == 300
    assert set(records.values_list("op", "version")) == {("upsert", 1)}


def test_seed_demo_tree_is_idempotent_and_grows_by_prefix():
    run("seed_demo", "--branches", "200", "--seed", "3")
    before = state()
    run("seed_demo", "--branches", "200", "--seed", "3")
    assert state() == before

    first = set(Branch.objects.values_list("pk", flat=True))
    output = run("seed_demo", "--branches", "250", "--seed", "3")
    assert "50 inserted" in output
    assert first < set(Branch.objects.values_list("pk", flat=True))
    assert Branch.objects.count() == len(first) + 50


def test_seed_demo_other_seed_generates_other_ids():
    run("seed_demo", "--branches", "50", "--seed", "1")
    run("seed_demo", "--branches", "50", "--seed", "2")
    assert Branch.objects.exclude(pk__in=demo_ids()).count() == 100


def test_seed_demo_new_member_total_updates_counts_with_versions():
    run("seed_demo", "--branches", "120", "--members", "3000")
    changes = ChangeRecord.objects.count()
    output = run("seed_demo", "--branches", "120", "--members", "3600")
    generated = Branch.objects.exclude(pk__in=demo_ids())
    assert generated.aggregate(n=Sum("member_count"))["n"] == 3600
    updated = generated.filter(version=2)
    assert updated.exists()
    assert f"{updated.count()} member counts updated" in output
    assert ChangeRecord.objects.count() == changes + updated.count()
    assert ChangeRecord.objects.filter(object_id__in=updated.values("pk"), version=2).count() == updated.count()


def test_seed_demo_members_without_branches_is_refused():
    with pytest.raises(CommandError, match="--members needs --branches"):
        run("seed_demo", "--members", "100")


def test_seed_demo_negative_branches_is_refused():
    with pytest.raises(CommandError, match="--branches must be 0 or more"):
        run("seed_demo", "--branches", "-1")


#
# list_branches
#
def test_list_branches_prints_the_tree_in_path_order(branch_tree):
    from branches.actions import branch_create, branch_dissolve

    gone = branch_create(actor=None, parent=branch_tree["building"], name="Gone", kind=BranchKind.GROUP)
    branch_dissolve(actor=None, branch=gone)
    lines = run("list_branches").splitlines()
    expected = [f"{b.pk}\t{b.parent_id or '-'}\t{b.kind}\t{b.name}" for b in Branch.objects.order_by("path")]
    assert lines == expected
    assert len(lines) == 5
    assert lines[0] == f"{branch_tree['district'].pk}\t-\tcommittee\tDistrict committee"
    # A child comes after its parent.
    ids = [line.split("\t")[0] for line in lines]
    assert ids.index(str(branch_tree["station_a"].pk)) > ids.index(str(branch_tree["delivery"].pk))


#
# grant_role
#
def test_grant_role_gives_the_role_and_audits(branch_tree):
    user = UserFactory(username="wang")
    branch = branch_tree["station_a"]
    output = run("grant_role", "wang", "secretary", str(branch.pk))
    assert "wang is now secretary at Station A branch" in output
    assert RoleAssignment.objects.filter(user=user, role="secretary", branch=branch).exists()
    entry = AuditEntry.objects.get(action="branches.role.granted")
    assert entry.actor is None
    assert entry.data == {"user": "wang", "role": "secretary"}


def test_grant_role_twice_says_already_held(branch_tree):
    UserFactory(username="wang")
    run("grant_role", "wang", "officer", str(branch_tree["delivery"].pk))
    output = run("grant_role", "wang", "officer", str(branch_tree["delivery"].pk))
    assert "already holds officer" in output
    assert RoleAssignment.objects.count() == 1


def test_grant_role_unknown_user(branch_tree):
    with pytest.raises(CommandError, match="No user with username 'nobody'"):
        run("grant_role", "nobody", "secretary", str(branch_tree["station_a"].pk))


def test_grant_role_unknown_role(branch_tree):
    UserFactory(username="wang")
    with pytest.raises(CommandError, match="Unknown role 'boss'; choose one of: admin, officer"):
        run("grant_role", "wang", "boss", str(branch_tree["station_a"].pk))
    assert not RoleAssignment.objects.exists()


def test_grant_role_malformed_branch_id(db):
    UserFactory(username="wang")
    with pytest.raises(CommandError, match="'12345' is not a branch id"):
        run("grant_role", "wang", "secretary", "12345")


def test_grant_role_unknown_branch_id(db):
    UserFactory(username="wang")
    missing = uuid.uuid4()
    with pytest.raises(CommandError, match=f"No organisation with id {missing}"):
        run("grant_role", "wang", "secretary", str(missing))


def test_grant_role_dissolved_branch_is_unknown(branch_tree):
    from branches.actions import branch_dissolve

    UserFactory(username="wang")
    branch_dissolve(actor=None, branch=branch_tree["station_b"])
    with pytest.raises(CommandError, match="No organisation with id"):
        run("grant_role", "wang", "secretary", str(branch_tree["station_b"].pk))


@pytest.mark.parametrize("name", ["seed_demo", "list_branches", "grant_role"])
def test_commands_print_their_help(name):
    command = load_command_class("branches", name)
    text = command.create_parser("manage.py", name).format_help()
    assert f"usage: manage.py {name}" in text
    assert str(command.help).split()[0] in text
