"""REST API of branches and units: scope, filters, writes through the actions, concurrency, bad input."""

import datetime
from decimal import Decimal
from http import HTTPStatus

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from branches import actions
from branches.choices import BranchBasis, BranchKind, CommitteePost, Role
from branches.models import Branch, CommitteeSeat, Unit
from core.models import AuditEntry, ChangeRecord
from tests.branches.factories import UnitFactory, credit_code

pytestmark = pytest.mark.django_db


def _list(client, url_name, **params):
    response = client.get(reverse(url_name), params)
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["results"]


def _names(rows):
    return sorted(row["name"] for row in rows)


def _detail(kind, obj):
    return reverse(f"api:{kind}-detail", kwargs={"pk": obj.pk})


def _iso(value: datetime.datetime) -> str:
    return timezone.localtime(value).isoformat()


@pytest.fixture
def officer_client(api_client, branch_tree, role_at):
    """A client logged in as an officer of the delivery committee (delivery, station_a, station_b)."""
    api_client.force_authenticate(role_at(branch_tree["delivery"], Role.OFFICER))
    return api_client


@pytest.fixture
def admin_client(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))
    return api_client


#
# Reads and scope
#
def test_branch_list_officer_sees_own_subtree(officer_client):
    rows = _list(officer_client, "api:branch-list")

    assert _names(rows) == ["Delivery committee", "Station A branch", "Station B branch"]


def test_branch_list_secretary_sees_station_a_only(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))

    rows = _list(api_client, "api:branch-list")
    own = api_client.get(_detail("branch", branch_tree["station_a"]))
    sibling = api_client.get(_detail("branch", branch_tree["station_b"]))

    assert _names(rows) == ["Station A branch"]
    assert own.status_code == HTTPStatus.OK
    assert sibling.status_code == HTTPStatus.NOT_FOUND
    assert sibling.json()["code"] == "not_found"


def test_branch_detail_full_payload(officer_client, branch_tree):
    today = timezone.localdate()
    elected = today - relativedelta(years=1)
    delivery = branch_tree["delivery"]
    unit = UnitFactory(branch=branch_tree["station_a"])
    branch = actions.branch_create(
        actor=None,
        parent=delivery,
        units=[unit],
        name="Rider branch",
        kind=BranchKind.BRANCH,
        basis=BranchBasis.PLATFORM,
        is_temporary=True,
        address="1 Riders Road",
        latitude=Decimal("31.230416"),
        longitude=Decimal("121.473701"),
        founded_on=datetime.date(2020, 5, 4),
        elected_on=elected,
        external_ref="district-77",
    )
    actions.branch_create(actor=None, parent=branch, name="Night shift group", kind=BranchKind.GROUP)
    actions.seat_add(
        actor=None,
        branch=branch,
        post=CommitteePost.SECRETARY,
        holder_name="Li Wei",
        started_on=elected,
        party_standing_since=today - relativedelta(years=5),
    )
    branch.refresh_from_db()

    response = officer_client.get(_detail("branch", branch))

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] == 'W/"2"'
    assert response.json() == {
        "id": str(branch.pk),
        "version": 2,
        "created_at": _iso(branch.created_at),
        "updated_at": _iso(branch.updated_at),
        "branch": str(delivery.pk),
        "external_ref": "district-77",
        "name": "Rider branch",
        "parent": str(delivery.pk),
        "kind": "branch",
        "basis": "platform",
        "is_joint": False,
        "is_temporary": True,
        "is_functional": False,
        "units": [str(unit.pk)],
        "address": "1 Riders Road",
        "latitude": 31.230416,
        "longitude": 121.473701,
        "founded_on": "2020-05-04",
        "elected_on": elected.isoformat(),
        "term_years": None,
        "term_extension_months": 0,
        "term_expires_on": (elected + relativedelta(years=3)).isoformat(),
        "member_count": 0,
        "full_member_count": 0,
        "child_count": 1,
        "depth": 2,
        "warnings": [
            {
                "code": "too_few_full_members",
                "message": "Fewer than 3 full members: join other units in a joint branch.",
            },
            {
                "code": "temporary_limits",
                "message": "A temporary branch may not develop members, collect dues, elect delegates or hold "
                "re-elections.",
            },
        ],
    }


def test_branch_list_branch_filter_is_whole_subtree(admin_client, branch_tree):
    rows = _list(admin_client, "api:branch-list", branch=str(branch_tree["delivery"].pk))

    assert _names(rows) == ["Delivery committee", "Station A branch", "Station B branch"]


def test_branch_list_branch_filter_outside_scope_is_empty(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))

    sibling = _list(api_client, "api:branch-list", branch=str(branch_tree["station_b"].pk))
    unknown = _list(api_client, "api:branch-list", branch="00000000-0000-0000-0000-000000000000")

    assert sibling == []
    assert unknown == []


def test_branch_list_parent_filter_gives_direct_children(admin_client, branch_tree):
    rows = _list(admin_client, "api:branch-list", parent=str(branch_tree["district"].pk))

    assert _names(rows) == ["Building joint branch", "Delivery committee"]


def test_branch_list_roots_are_tops_of_the_callers_scope(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["district"], Role.ADMIN))
    admin_rows = _list(api_client, "api:branch-list", roots="true")
    api_client.force_authenticate(role_at(branch_tree["delivery"], Role.OFFICER))
    officer_rows = _list(api_client, "api:branch-list", roots="true")

    assert _names(admin_rows) == ["District committee"]
    assert _names(officer_rows) == ["Delivery committee"]


def test_branch_list_search_kind_and_basis_filters(admin_client):
    assert _names(_list(admin_client, "api:branch-list", search="station")) == [
        "Station A branch",
        "Station B branch",
    ]
    assert _names(_list(admin_client, "api:branch-list", kind="committee")) == [
        "Delivery committee",
        "District committee",
    ]
    assert _names(_list(admin_client, "api:branch-list", basis="building")) == ["Building joint branch"]


def test_branch_list_updated_since_gives_changes_oldest_first(admin_client, branch_tree):
    since = timezone.now()
    actions.branch_update(actor=None, branch=branch_tree["station_b"], name="Station B (renamed)")
    actions.branch_update(actor=None, branch=branch_tree["station_a"], name="Station A (renamed)")

    rows = _list(admin_client, "api:branch-list", updated_since=since.isoformat())

    assert [row["name"] for row in rows] == ["Station B (renamed)", "Station A (renamed)"]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("branch", "not-a-uuid"),
        ("parent", "42"),
        ("roots", "maybe"),
        ("kind", "club"),
        ("basis", "moon"),
        ("updated_since", "yesterday"),
    ],
)
def test_branch_list_invalid_filter_is_400(admin_client, param, value):
    response = admin_client.get(reverse("api:branch-list"), {param: value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [param]


def _bulk_children(parent: Branch, count: int) -> list[Branch]:
    """Many branches at once (with units and secretaries on some), to measure the list's query count."""
    rows = []
    for i in range(count):
        branch = Branch(parent=parent, name=f"Station {i:03d}", depth=parent.depth + 1, version=1)
        branch.path = Branch.path_for(branch.id, parent)
        rows.append(branch)
    Branch.objects.bulk_create(rows)
    units = UnitFactory.create_batch(3, branch=parent)
    Branch.units.through.objects.bulk_create(
        [Branch.units.through(branch=b, unit=u) for b in rows[::2] for u in units]
    )
    CommitteeSeat.objects.bulk_create(
        [
            CommitteeSeat(
                branch=b, post=CommitteePost.SECRETARY, holder_name="Wang", started_on=datetime.date(2024, 1, 1)
            )
            for b in rows[::3]
        ]
    )
    return rows


@pytest.mark.parametrize("count", [10, 500])
def test_branch_list_query_count_does_not_grow_with_rows(api_client, role_at, django_assert_num_queries, count):
    top = actions.branch_create(actor=None, parent=None, name="Big committee", kind=BranchKind.COMMITTEE)
    _bulk_children(top, count)
    api_client.force_authenticate(role_at(top, Role.OFFICER))

    # role grants, the page of branches with its annotations, the units of the page
    with django_assert_num_queries(3):
        response = api_client.get(reverse("api:branch-list"), {"page_size": 500})

    assert response.status_code == HTTPStatus.OK
    results = response.json()["results"]
    assert len(results) == min(count + 1, 500)
    assert any(row["units"] for row in results)
    assert all(row["warnings"] for row in results)


#
# Branch writes
#
def test_branch_create_under_scope(officer_client, branch_tree):
    unit = UnitFactory(branch=branch_tree["station_a"])
    payload = {
        "name": "Courier branch",
        "parent": str(branch_tree["delivery"].pk),
        "kind": "branch",
        "basis": "platform",
        "units": [str(unit.pk)],
        "latitude": 31.2304161234,
        "elected_on": "2025-03-01",
    }

    response = officer_client.post(reverse("api:branch-list"), payload, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    body = response.json()
    branch = Branch.objects.get(pk=body["id"])
    assert response["ETag"] == 'W/"1"'
    assert response["Location"].endswith(_detail("branch", branch))
    assert branch.parent == branch_tree["delivery"]
    assert list(branch.units.all()) == [unit]
    assert branch.latitude == Decimal("31.230416")
    assert body["term_expires_on"] == "2028-03-01"
    assert body["units"] == [str(unit.pk)]
    assert AuditEntry.objects.filter(action="branches.branch.created", object_id=str(branch.pk)).exists()


def test_branch_create_missing_and_wrongly_typed_fields_is_400(officer_client):
    payload = {"kind": "club", "latitude": "north", "is_joint": "perhaps", "units": "all", "founded_on": "May"}

    response = officer_client.post(reverse("api:branch-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"name", "parent", "kind", "latitude", "is_joint", "units", "founded_on"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())
    assert not Branch.objects.filter(name="").exists()


def test_branch_create_under_parent_outside_scope_is_400(officer_client, branch_tree):
    payload = {"name": "Stray branch", "parent": str(branch_tree["building"].pk)}

    response = officer_client.post(reverse("api:branch-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["parent"]
    assert not Branch.objects.filter(name="Stray branch").exists()


def test_branch_create_top_level_by_officer_is_403(officer_client):
    response = officer_client.post(reverse("api:branch-list"), {"name": "Rival root", "parent": None}, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "permission_denied"
    assert not Branch.objects.filter(name="Rival root").exists()


def test_branch_create_with_duplicate_external_ref_is_400(officer_client, branch_tree):
    actions.branch_update(actor=None, branch=branch_tree["station_b"], external_ref="district-9")
    payload = {"name": "Twin", "parent": str(branch_tree["delivery"].pk), "external_ref": "district-9"}

    response = officer_client.post(reverse("api:branch-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["external_ref"]
    assert not Branch.objects.filter(name="Twin").exists()


def test_branch_create_by_secretary_is_403(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))
    payload = {"name": "New group", "parent": str(branch_tree["station_a"].pk), "kind": "group"}

    response = api_client.post(reverse("api:branch-list"), payload, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["code"] == "permission_denied"
    assert not Branch.objects.filter(name="New group").exists()


def test_branch_patch_changes_fields_and_version(officer_client, branch_tree):
    station_a = branch_tree["station_a"]

    response = officer_client.patch(
        _detail("branch", station_a), {"name": "Station A riders", "is_functional": True}, format="json"
    )

    assert response.status_code == HTTPStatus.OK, response.content
    station_a.refresh_from_db()
    assert (station_a.name, station_a.is_functional, station_a.version) == ("Station A riders", True, 2)
    assert response.json()["version"] == 2
    assert response["ETag"] == 'W/"2"'


def test_branch_put_requires_name_and_parent(officer_client, branch_tree):
    response = officer_client.put(_detail("branch", branch_tree["station_a"]), {"kind": "group"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["errors"]) == {"name", "parent"}


def test_branch_put_round_trips_the_top_of_the_callers_scope(officer_client, branch_tree):
    """The parent of the officer's top branch is outside the scope, yet sending it back unchanged is fine."""
    url = _detail("branch", branch_tree["delivery"])
    read = officer_client.get(url)
    body = {**read.json(), "name": "Delivery platforms committee"}

    response = officer_client.put(url, body, format="json", HTTP_IF_MATCH=read["ETag"])

    assert response.status_code == HTTPStatus.OK, response.content
    assert response.json()["parent"] == str(branch_tree["district"].pk)
    assert Branch.objects.get(pk=branch_tree["delivery"].pk).name == "Delivery platforms committee"


def test_branch_patch_to_a_parent_outside_scope_is_400(officer_client, branch_tree):
    response = officer_client.patch(
        _detail("branch", branch_tree["station_a"]), {"parent": str(branch_tree["building"].pk)}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["parent"]
    assert Branch.objects.get(pk=branch_tree["station_a"].pk).parent == branch_tree["delivery"]


def test_branch_put_with_new_parent_moves_the_branch(admin_client, branch_tree):
    station_b, building = branch_tree["station_b"], branch_tree["building"]

    response = admin_client.put(
        _detail("branch", station_b), {"name": "Station B", "parent": str(building.pk)}, format="json"
    )

    assert response.status_code == HTTPStatus.OK, response.content
    station_b.refresh_from_db()
    assert station_b.name == "Station B"
    assert station_b.parent == building
    assert station_b.path.startswith(building.path)
    assert response.json()["parent"] == str(building.pk)


def test_branch_patch_outside_subtree_is_404(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.OFFICER))

    response = api_client.patch(_detail("branch", branch_tree["station_b"]), {"name": "Taken over"}, format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Branch.objects.get(pk=branch_tree["station_b"].pk).name == "Station B branch"


def test_branch_patch_with_stale_if_match_is_412_with_current_record(officer_client, branch_tree):
    station_a = branch_tree["station_a"]
    actions.branch_update(actor=None, branch=station_a, address="2 Depot Lane")  # now version 2

    response = officer_client.patch(
        _detail("branch", station_a), {"name": "Lost update"}, format="json", HTTP_IF_MATCH='W/"1"'
    )

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    body = response.json()
    assert body["code"] == "precondition_failed"
    assert body["current"]["version"] == 2
    assert body["current"]["address"] == "2 Depot Lane"
    assert response["ETag"] == 'W/"2"'
    station_a.refresh_from_db()
    assert (station_a.name, station_a.version) == ("Station A branch", 2)


def test_branch_patch_with_current_if_match_succeeds(officer_client, branch_tree):
    response = officer_client.patch(
        _detail("branch", branch_tree["station_a"]), {"name": "Station A"}, format="json", HTTP_IF_MATCH='W/"1"'
    )

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] == 'W/"2"'


def test_branch_delete_dissolves_softly(officer_client, branch_tree):
    station_b = branch_tree["station_b"]

    response = officer_client.delete(_detail("branch", station_b))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert officer_client.get(_detail("branch", station_b)).status_code == HTTPStatus.NOT_FOUND
    assert "Station B branch" not in _names(_list(officer_client, "api:branch-list"))
    assert Branch.all_objects.get(pk=station_b.pk).deleted_at is not None
    assert ChangeRecord.objects.filter(object_id=station_b.pk, op="delete").exists()


def test_branch_delete_with_children_is_409(officer_client, branch_tree):
    delivery = branch_tree["delivery"]

    response = officer_client.delete(_detail("branch", delivery))

    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert body["code"] == "conflict"
    assert "child organisations" in body["detail"]
    delivery.refresh_from_db()
    assert delivery.deleted_at is None


def test_branch_delete_with_units_is_409(officer_client, branch_tree):
    UnitFactory(branch=branch_tree["station_b"])

    response = officer_client.delete(_detail("branch", branch_tree["station_b"]))

    assert response.status_code == HTTPStatus.CONFLICT
    assert Branch.objects.filter(pk=branch_tree["station_b"].pk).exists()


def test_branch_move_moves_the_subtree(admin_client, branch_tree):
    delivery, building = branch_tree["delivery"], branch_tree["building"]

    response = admin_client.post(
        reverse("api:branch-move", kwargs={"pk": delivery.pk}), {"parent": str(building.pk)}, format="json"
    )

    assert response.status_code == HTTPStatus.OK, response.content
    body = response.json()
    assert body["parent"] == str(building.pk)
    assert body["depth"] == 2
    assert response["ETag"] == f'W/"{body["version"]}"'
    station_a = Branch.objects.get(pk=branch_tree["station_a"].pk)
    assert station_a.path.startswith(building.path)
    assert station_a.depth == 3


@pytest.mark.parametrize("target", ["station_a", "delivery"])
def test_branch_move_under_itself_or_a_descendant_is_400(admin_client, branch_tree, target):
    delivery = branch_tree["delivery"]
    before = Branch.objects.get(pk=delivery.pk)

    response = admin_client.post(
        reverse("api:branch-move", kwargs={"pk": delivery.pk}), {"parent": str(branch_tree[target].pk)}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["parent"]
    after = Branch.objects.get(pk=delivery.pk)
    assert (after.parent_id, after.path, after.version) == (before.parent_id, before.path, before.version)


def test_branch_move_without_parent_is_400(admin_client, branch_tree):
    response = admin_client.post(
        reverse("api:branch-move", kwargs={"pk": branch_tree["station_a"].pk}), {}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["parent"]


#
# Units
#
def test_unit_list_secretary_sees_own_units_only(api_client, branch_tree, role_at):
    own = UnitFactory(branch=branch_tree["station_a"], name="Rider Co")
    other = UnitFactory(branch=branch_tree["station_b"], name="Courier Co")
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))

    rows = _list(api_client, "api:unit-list")

    assert [row["id"] for row in rows] == [str(own.pk)]
    assert api_client.get(_detail("unit", other)).status_code == HTTPStatus.NOT_FOUND


def test_unit_list_branch_filter_is_whole_subtree(admin_client, branch_tree):
    UnitFactory(branch=branch_tree["station_a"], name="Rider Co")
    UnitFactory(branch=branch_tree["delivery"], name="Platform Co")
    UnitFactory(branch=branch_tree["building"], name="Tower Co")

    rows = _list(admin_client, "api:unit-list", branch=str(branch_tree["delivery"].pk))

    assert _names(rows) == ["Platform Co", "Rider Co"]


def test_unit_list_query_count_is_constant(admin_client, branch_tree, django_assert_num_queries):
    UnitFactory.create_batch(20, branch=branch_tree["station_a"])

    with django_assert_num_queries(2):  # role grants, the page of units
        response = admin_client.get(reverse("api:unit-list"))

    assert len(response.json()["results"]) == 20


def test_unit_detail_full_payload(officer_client, branch_tree):
    unit = actions.unit_create(
        actor=None,
        branch=branch_tree["station_a"],
        name="Swift Riders Ltd",
        credit_code=credit_code(7),
        unit_type="enterprise",
        size="medium",
        economic_type="private",
        has_union=True,
        address="8 Market Street",
        external_ref="crm-8",
    )

    response = officer_client.get(_detail("unit", unit))

    assert response.status_code == HTTPStatus.OK
    assert response["ETag"] == 'W/"1"'
    assert response.json() == {
        "id": str(unit.pk),
        "version": 1,
        "created_at": _iso(unit.created_at),
        "updated_at": _iso(unit.updated_at),
        "branch": str(branch_tree["station_a"].pk),
        "external_ref": "crm-8",
        "name": "Swift Riders Ltd",
        "credit_code": credit_code(7),
        "unit_type": "enterprise",
        "size": "medium",
        "economic_type": "private",
        "has_union": True,
        "address": "8 Market Street",
    }


def test_unit_create_by_secretary_normalises_credit_code(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))
    code = credit_code(11)
    messy = f" {code[:6]} {code[6:-1]}-{code[-1].lower()} "
    payload = {"branch": str(branch_tree["station_a"].pk), "name": "Rider Co", "credit_code": messy}

    response = api_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["credit_code"] == code
    assert Unit.objects.get(pk=response.json()["id"]).credit_code == code


def test_unit_create_with_malformed_credit_code_is_400(officer_client, branch_tree):
    payload = {"branch": str(branch_tree["station_a"].pk), "name": "Rider Co", "credit_code": "91110000123"}

    response = officer_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["credit_code"]
    assert not Unit.objects.filter(name="Rider Co").exists()


def test_unit_create_with_duplicate_credit_code_is_400(officer_client, branch_tree):
    UnitFactory(branch=branch_tree["station_b"], credit_code=credit_code(5))
    payload = {"branch": str(branch_tree["station_a"].pk), "name": "Copy Co", "credit_code": credit_code(5)}

    response = officer_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {
        "credit_code": ["A unit with this unified social credit code already exists."]
    }
    assert not Unit.objects.filter(name="Copy Co").exists()


def test_unit_create_duplicate_credit_code_racing_past_validation_is_400(officer_client, branch_tree, monkeypatch):
    UnitFactory(branch=branch_tree["station_b"], credit_code=credit_code(5))
    # A concurrent insert commits between full_clean() and INSERT: only the database constraint sees it.
    monkeypatch.setattr(Unit, "validate_constraints", lambda self, exclude=None: None)
    payload = {"branch": str(branch_tree["station_a"].pk), "name": "Racer Co", "credit_code": credit_code(5)}

    response = officer_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"] == {
        "credit_code": ["A unit with this unified social credit code already exists."]
    }
    assert not Unit.objects.filter(name="Racer Co").exists()


def test_unit_credit_code_is_free_again_after_delete(officer_client, branch_tree):
    old = UnitFactory(branch=branch_tree["station_b"], credit_code=credit_code(9))
    assert officer_client.delete(_detail("unit", old)).status_code == HTTPStatus.NO_CONTENT
    payload = {"branch": str(branch_tree["station_a"].pk), "name": "Successor Co", "credit_code": credit_code(9)}

    response = officer_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.content


def test_unit_create_for_branch_outside_scope_is_400(api_client, branch_tree, role_at):
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))
    payload = {"branch": str(branch_tree["station_b"].pk), "name": "Elsewhere Co"}

    response = api_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["errors"]) == ["branch"]
    assert not Unit.objects.filter(name="Elsewhere Co").exists()


def test_unit_create_missing_and_wrongly_typed_fields_is_400(officer_client):
    payload = {"size": "huge", "has_union": "sometimes", "branch": "station-a"}

    response = officer_client.post(reverse("api:unit-list"), payload, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["errors"]) == {"name", "branch", "size", "has_union"}


def test_unit_patch_and_put(officer_client, branch_tree):
    unit = UnitFactory(branch=branch_tree["station_a"], name="Rider Co")

    patched = officer_client.patch(_detail("unit", unit), {"has_union": True}, format="json")
    put = officer_client.put(
        _detail("unit", unit),
        {"branch": str(branch_tree["station_b"].pk), "name": "Rider Co (B)"},
        format="json",
        HTTP_IF_MATCH='W/"2"',
    )

    assert patched.status_code == HTTPStatus.OK, patched.content
    assert put.status_code == HTTPStatus.OK, put.content
    unit.refresh_from_db()
    assert (unit.name, unit.branch, unit.has_union, unit.version) == (
        "Rider Co (B)",
        branch_tree["station_b"],
        True,
        3,
    )
    assert put.json()["branch"] == str(branch_tree["station_b"].pk)
    assert put["ETag"] == 'W/"3"'


def test_unit_patch_outside_subtree_is_404(api_client, branch_tree, role_at):
    unit = UnitFactory(branch=branch_tree["station_b"], name="Courier Co")
    api_client.force_authenticate(role_at(branch_tree["station_a"], Role.SECRETARY))

    response = api_client.patch(_detail("unit", unit), {"name": "Mine now"}, format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Unit.objects.get(pk=unit.pk).name == "Courier Co"


def test_unit_delete_with_stale_if_match_is_412(officer_client, branch_tree):
    unit = UnitFactory(branch=branch_tree["station_a"])
    actions.unit_update(actor=None, unit=unit, name="Renamed")

    response = officer_client.delete(_detail("unit", unit), HTTP_IF_MATCH='W/"1"')

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json()["current"]["name"] == "Renamed"
    assert Unit.objects.filter(pk=unit.pk).exists()


def test_unit_delete_is_soft(officer_client, branch_tree):
    unit = UnitFactory(branch=branch_tree["station_a"])

    response = officer_client.delete(_detail("unit", unit))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert officer_client.get(_detail("unit", unit)).status_code == HTTPStatus.NOT_FOUND
    assert Unit.all_objects.get(pk=unit.pk).deleted_at is not None
