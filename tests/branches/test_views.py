"""Organisation pages: tree, detail and the forms that call the branch actions."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from branches import actions
from branches.choices import BranchKind, CommitteePost, Role
from branches.models import Branch
from tests.branches.factories import UnitFactory

pytestmark = pytest.mark.django_db

CHANGE_PAGES = ["branches:branch_create", "branches:branch_update", "branches:branch_move", "branches:branch_dissolve"]


def detail_url(branch):
    return reverse("branches:branch_detail", kwargs={"pk": branch.pk})


def page_url(name, branch):
    return reverse(name, kwargs={"pk": branch.pk})


@pytest.fixture
def officer_client(client, branch_tree, role_at):
    """A client signed in as an officer of the district committee (the whole tree)."""
    client.force_login(role_at(branch_tree["district"], Role.OFFICER))
    return client


#
# Tree
#
def test_branch_tree_renders_tops_of_scope(client, branch_tree, role_at, django_assert_num_queries):
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))

    # session, user, role grants, TOTP check (middleware), tops with their rule facts, unread notifications
    with django_assert_num_queries(6):
        response = client.get(reverse("branches:branch_tree"))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert f'id="node-{branch_tree["delivery"].pk}"' in content
    assert 'aria-controls="children-{}"'.format(branch_tree["delivery"].pk) in content
    assert "District committee" not in content
    assert "Building joint branch" not in content
    assert 'id="branch-search-input"' in content
    assert "js/tree.js" in content


def test_branch_tree_query_count_does_not_grow_with_tops(client, branch_tree, role_at, django_assert_num_queries):
    admin = role_at(branch_tree["district"], Role.ADMIN)
    for n in range(15):
        actions.branch_create(actor=None, parent=None, name=f"Root {n}", kind=BranchKind.COMMITTEE)
    client.force_login(admin)

    with django_assert_num_queries(6):
        response = client.get(reverse("branches:branch_tree"))

    assert response.status_code == HTTPStatus.OK
    assert response.content.decode().count('class="tree-node"') == 16


def test_branch_tree_search_without_scripts_lists_matches_in_scope(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))

    response = client.get(reverse("branches:branch_tree"), {"q": "branch"})

    content = response.content.decode()
    assert detail_url(branch_tree["station_a"]) in content
    assert detail_url(branch_tree["station_b"]) in content
    assert "Building joint branch" not in content


def test_branch_tree_search_says_when_nothing_matches(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))

    response = client.get(reverse("branches:branch_tree"), {"q": "no such name"})

    assert "No organisation matches." in response.content.decode()


def test_branch_tree_sends_labels_for_the_script(officer_client):
    response = officer_client.get(reverse("branches:branch_tree"))

    texts = response.context["tree_texts"]
    assert texts["kinds"]["committee"] == "Party committee"
    assert 'id="branch-tree-texts"' in response.content.decode()
    assert response.context["detail_url_template"] == "/branches/00000000-0000-0000-0000-000000000000/"


#
# Detail
#
def test_branch_detail_shows_branch_in_scope(client, branch_tree, role_at, django_assert_num_queries):
    station_a = branch_tree["station_a"]
    actions.seat_add(
        actor=None,
        branch=station_a,
        post=CommitteePost.SECRETARY,
        holder_name="Li Hua",
        started_on=datetime.date(2024, 1, 10),
    )
    unit = UnitFactory(branch=station_a, name="Swift Delivery Ltd")
    actions.branch_update(actor=None, branch=station_a, units=[unit], elected_on=datetime.date(2024, 1, 10))
    client.force_login(role_at(station_a, Role.SECRETARY))

    # 4 per request (session, user, grants, TOTP check), branch, ancestors, seats, children count, units, unread badge
    with django_assert_num_queries(9):
        response = client.get(detail_url(station_a))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "Station A branch" in content
    assert "Li Hua" in content
    assert "Swift Delivery Ltd" in content
    assert "3 years" in content
    assert 'data-code="too_few_full_members"' in content
    # Ancestors outside the secretary's scope are named, not linked.
    assert "Delivery committee" in content
    assert detail_url(branch_tree["delivery"]) not in content


def test_branch_detail_of_sibling_is_404(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))

    response = client.get(detail_url(branch_tree["station_b"]))

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_branch_detail_lists_children_and_links_ancestors(officer_client, branch_tree):
    response = officer_client.get(detail_url(branch_tree["delivery"]))

    content = response.content.decode()
    assert detail_url(branch_tree["station_a"]) in content
    assert detail_url(branch_tree["station_b"]) in content
    assert detail_url(branch_tree["district"]) in content


def test_branch_detail_shows_change_buttons_only_with_change_rights(client, branch_tree, role_at):
    station_a = branch_tree["station_a"]
    client.force_login(role_at(station_a, Role.SECRETARY))
    assert 'id="branch-edit-link"' not in client.get(detail_url(station_a)).content.decode()

    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))
    content = client.get(detail_url(station_a)).content.decode()
    for element_id in ("branch-add-child-link", "branch-edit-link", "branch-move-link", "branch-dissolve-link"):
        assert f'id="{element_id}"' in content


def test_branch_pages_redirect_anonymous_to_login(client, branch_tree):
    for url in (reverse("branches:branch_tree"), detail_url(branch_tree["district"])):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login") + "?next=")


#
# Who may open the change pages
#
@pytest.mark.parametrize("name", CHANGE_PAGES)
def test_branch_change_pages_forbidden_without_change_rights(client, branch_tree, role_at, name):
    station_a = branch_tree["station_a"]
    client.force_login(role_at(station_a, Role.SECRETARY))

    assert client.get(page_url(name, station_a)).status_code == HTTPStatus.FORBIDDEN
    assert client.post(page_url(name, station_a), {"name": "X", "reason": "x"}).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("name", CHANGE_PAGES)
def test_branch_change_pages_404_outside_scope(client, branch_tree, role_at, name):
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))

    response = client.get(page_url(name, branch_tree["building"]))

    assert response.status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize("name", CHANGE_PAGES)
def test_branch_change_pages_open_for_officer(officer_client, branch_tree, name):
    response = officer_client.get(page_url(name, branch_tree["station_a"]))

    assert response.status_code == HTTPStatus.OK


#
# Create
#
def test_branch_create_adds_child_and_redirects(officer_client, branch_tree):
    station_a = branch_tree["station_a"]
    unit = UnitFactory(branch=station_a, name="Courier Co")

    response = officer_client.post(
        page_url("branches:branch_create", station_a),
        {
            "name": "Night shift group",
            "kind": BranchKind.GROUP,
            "basis": "platform",
            "is_joint": "",
            "term_extension_months": "0",
            "units": [str(unit.pk)],
        },
    )

    child = Branch.objects.get(name="Night shift group")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == detail_url(child)
    assert child.parent == station_a
    assert list(child.units.all()) == [unit]
    followed = officer_client.get(response["Location"])
    assert "Organisation “Night shift group” created." in followed.content.decode()


def test_branch_create_form_uses_model_field_names(officer_client, branch_tree):
    response = officer_client.get(page_url("branches:branch_create", branch_tree["station_a"]))

    content = response.content.decode()
    for field in ("name", "kind", "basis", "is_joint", "is_temporary", "is_functional", "elected_on", "units"):
        assert f'name="{field}"' in content
    assert 'id="branch-create-form"' in content
    # One level down from a branch is a party group.
    assert response.context["form"].initial["kind"] == BranchKind.GROUP


def test_branch_create_without_name_shows_error_in_place(officer_client, branch_tree):
    count = Branch.objects.count()

    response = officer_client.post(
        page_url("branches:branch_create", branch_tree["station_a"]),
        {"name": "", "kind": BranchKind.GROUP, "basis": "platform", "term_extension_months": "0"},
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert 'id="id_name_errors"' in response.content.decode()
    assert Branch.objects.count() == count


def test_branch_create_rejects_unit_outside_scope(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))
    foreign = UnitFactory(branch=branch_tree["building"])
    count = Branch.objects.count()

    response = client.post(
        page_url("branches:branch_create", branch_tree["station_a"]),
        {"name": "G", "kind": BranchKind.GROUP, "basis": "unit", "term_extension_months": "0", "units": [foreign.pk]},
    )

    assert response.status_code == HTTPStatus.OK
    assert "units" in response.context["form"].errors
    assert Branch.objects.count() == count


def test_branch_create_shows_model_validation_in_place(officer_client, branch_tree):
    count = Branch.objects.count()

    response = officer_client.post(
        page_url("branches:branch_create", branch_tree["station_a"]),
        {"name": "G", "kind": BranchKind.GROUP, "basis": "unit", "term_extension_months": "13"},
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors
    assert Branch.objects.count() == count


#
# Edit
#
def test_branch_update_saves_and_keeps_units_the_user_cannot_see(client, branch_tree, role_at):
    station_a = branch_tree["station_a"]
    hidden_unit = UnitFactory(branch=branch_tree["building"], name="Outside unit")
    visible_unit = UnitFactory(branch=station_a, name="Inside unit")
    actions.branch_update(actor=None, branch=station_a, units=[hidden_unit])
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))

    response = client.post(
        page_url("branches:branch_update", station_a),
        {
            "name": "Station A (renamed)",
            "kind": BranchKind.BRANCH,
            "basis": "platform",
            "is_temporary": "on",
            "address": "1 Rider Road",
            "elected_on": "2023-05-01",
            "term_extension_months": "0",
            "units": [str(visible_unit.pk)],
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    station_a.refresh_from_db()
    assert station_a.name == "Station A (renamed)"
    assert station_a.is_temporary
    assert station_a.address == "1 Rider Road"
    assert str(station_a.term_expires_on) == "2026-05-01"
    assert set(station_a.units.all()) == {hidden_unit, visible_unit}


def test_branch_update_form_starts_from_current_values(officer_client, branch_tree):
    response = officer_client.get(page_url("branches:branch_update", branch_tree["building"]))

    content = response.content.decode()
    assert 'value="Building joint branch"' in content
    assert response.context["form"].initial["is_joint"] is True


#
# Move
#
def test_branch_move_puts_branch_under_new_parent(officer_client, branch_tree):
    station_a, building = branch_tree["station_a"], branch_tree["building"]

    response = officer_client.post(page_url("branches:branch_move", station_a), {"parent": str(building.pk)})

    assert response.status_code == HTTPStatus.FOUND
    station_a.refresh_from_db()
    assert station_a.parent == building
    assert station_a.path.startswith(building.path)


def test_branch_move_under_descendant_shows_error_and_changes_nothing(officer_client, branch_tree):
    delivery, station_a = branch_tree["delivery"], branch_tree["station_a"]
    before = (delivery.parent_id, delivery.path, delivery.version)

    response = officer_client.post(page_url("branches:branch_move", delivery), {"parent": str(station_a.pk)})

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["parent"] == [
        "A branch cannot be moved under itself or one of its descendants."
    ]
    assert 'id="id_parent_errors"' in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.parent_id, delivery.path, delivery.version) == before


def test_branch_move_offers_only_change_scope_and_disables_own_subtree(client, branch_tree, role_at):
    delivery = branch_tree["delivery"]
    client.force_login(role_at(delivery, Role.OFFICER))

    response = client.get(page_url("branches:branch_move", branch_tree["station_a"]))

    content = response.content.decode()
    assert f'value="{branch_tree["station_b"].pk}"' in content
    assert f'value="{branch_tree["building"].pk}"' not in content
    assert f'value="{branch_tree["station_a"].pk}" disabled' in content


def test_branch_move_to_parent_outside_scope_is_refused(client, branch_tree, role_at):
    station_a = branch_tree["station_a"]
    client.force_login(role_at(branch_tree["delivery"], Role.OFFICER))

    response = client.post(page_url("branches:branch_move", station_a), {"parent": str(branch_tree["building"].pk)})

    assert response.status_code == HTTPStatus.OK
    assert "parent" in response.context["form"].errors
    station_a.refresh_from_db()
    assert station_a.parent == branch_tree["delivery"]


#
# Dissolve
#
def test_branch_dissolve_shows_confirmation_page(officer_client, branch_tree):
    response = officer_client.get(page_url("branches:branch_dissolve", branch_tree["station_b"]))

    content = response.content.decode()
    assert 'id="branch-dissolve-form"' in content
    assert 'name="reason"' in content
    assert Branch.objects.filter(pk=branch_tree["station_b"].pk).exists()


def test_branch_dissolve_removes_leaf_and_returns_to_parent(officer_client, branch_tree):
    station_b = branch_tree["station_b"]

    response = officer_client.post(page_url("branches:branch_dissolve", station_b), {"reason": "Station closed"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == detail_url(branch_tree["delivery"])
    assert not Branch.objects.filter(pk=station_b.pk).exists()
    assert Branch.all_objects.get(pk=station_b.pk).deleted_at is not None


def test_branch_dissolve_with_children_shows_error_and_changes_nothing(officer_client, branch_tree):
    delivery = branch_tree["delivery"]

    response = officer_client.post(page_url("branches:branch_dissolve", delivery), {"reason": "Merged"})

    assert response.status_code == HTTPStatus.OK
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1
    assert "child organisations" in errors[0]
    assert 'id="form-errors"' in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.deleted_at is None


def test_branch_dissolve_requires_reason(officer_client, branch_tree):
    station_b = branch_tree["station_b"]

    response = officer_client.post(page_url("branches:branch_dissolve", station_b), {"reason": ""})

    assert response.status_code == HTTPStatus.OK
    assert "reason" in response.context["form"].errors
    assert Branch.objects.filter(pk=station_b.pk).exists()
