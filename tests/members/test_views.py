"""Member pages: list (filters, sort, keyset pages, masks), detail with history, forms, affiliations, own record."""

import datetime
from http import HTTPStatus

import pytest
from django.urls import reverse

from branches.choices import Role
from core.models import AuditEntry
from members import actions, views
from members.models import Affiliation, Member, Platform
from tests.branches.factories import UnitFactory, UserFactory
from tests.members.factories import MemberFactory, make_citizen_id, with_wrong_check_digit

pytestmark = pytest.mark.django_db

LIST = reverse("members:member_list")
CREATE = reverse("members:member_create")
SELF = reverse("members:member_self")
LOOKUP = reverse("members:member_lookup")


def detail_url(member) -> str:
    return reverse("members:member_detail", kwargs={"pk": member.pk})


def edit_url(member) -> str:
    return reverse("members:member_update", kwargs={"pk": member.pk})


def listed_names(response) -> list[str]:
    return [member.name for member, _full in response.context["rows"]]


def listed_ids(response) -> list:
    return [member.pk for member, _full in response.context["rows"]]


@pytest.fixture
def secretary(branch_tree, role_at):
    return role_at(branch_tree["station_a"], Role.SECRETARY)


@pytest.fixture
def organiser(branch_tree, role_at):
    return role_at(branch_tree["station_a"], Role.ORGANISER)


@pytest.fixture
def secretary_client(client, secretary):
    client.force_login(secretary)
    return client


def form_data(branch, n=300, **overrides) -> dict:
    data = {
        "branch": str(branch.pk),
        "name": "王芳",
        "citizen_id": make_citizen_id(n, birth=datetime.date(1991, 2, 3), male=False),
        "phone": "13912345678",
        "sex": "",
        "birth_date": "",
        "ethnicity": "han",
        "education": "bachelor",
        "category": "full",
        "joined_on": "2015-07-01",
        "full_member_on": "2016-07-01",
        "job_title": "站长",
        "address": "北京市朝阳区某街1号",
        "status": "normal",
        "occupation": "delivery_rider",
        "platforms": [str(p.pk) for p in Platform.objects.filter(code__in=["meituan", "eleme"])],
        "unit": "",
        "username": "",
    }
    data.update(overrides)
    return data


#
# Scope: 200 in scope, 404 for a sibling branch's member
#
def test_member_pages_answer_in_scope(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])

    for url in (LIST, CREATE, detail_url(member), edit_url(member)):
        assert secretary_client.get(url).status_code == HTTPStatus.OK, url
    add_url = reverse("members:affiliation_add", kwargs={"pk": member.pk})
    assert secretary_client.get(add_url).status_code == HTTPStatus.OK


def test_member_pages_404_for_a_sibling_branch_member(secretary_client, branch_tree):
    sibling = MemberFactory(branch=branch_tree["station_b"])

    for name in ("members:member_detail", "members:member_update", "members:affiliation_add"):
        response = secretary_client.get(reverse(name, kwargs={"pk": sibling.pk}))
        assert response.status_code == HTTPStatus.NOT_FOUND, name
    end_url = reverse("members:affiliation_end", kwargs={"pk": sibling.pk})
    assert secretary_client.post(end_url, {}).status_code == HTTPStatus.NOT_FOUND
    edit = secretary_client.post(edit_url(sibling), form_data(branch_tree["station_a"]))
    assert edit.status_code == HTTPStatus.NOT_FOUND


def test_member_list_shows_only_the_scope(secretary_client, branch_tree):
    mine = MemberFactory(branch=branch_tree["station_a"], name="张三")
    MemberFactory(branch=branch_tree["station_b"], name="李四")

    response = secretary_client.get(LIST)

    assert listed_ids(response) == [mine.pk]
    assert "李四" not in response.content.decode()


def test_member_write_pages_refuse_an_organiser(client, organiser, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    client.force_login(organiser)

    assert client.get(detail_url(member)).status_code == HTTPStatus.OK
    assert client.get(edit_url(member)).status_code == HTTPStatus.FORBIDDEN
    assert client.get(CREATE).status_code == HTTPStatus.FORBIDDEN
    content = client.get(detail_url(member)).content.decode()
    assert 'id="member-edit-link"' not in content
    assert 'id="affiliation-add-link"' not in content


def test_member_list_explains_missing_roles(client, branch_tree):
    client.force_login(UserFactory())

    response = client.get(LIST)

    assert response.status_code == HTTPStatus.OK
    assert 'id="member-list-no-scope"' in response.content.decode()
    assert response.context["rows"] == []


#
# Filters and search
#
def test_member_list_finds_by_pinyin_initials_and_full_pinyin(secretary_client, branch_tree):
    zhang = MemberFactory(branch=branch_tree["station_a"], name="张三")
    MemberFactory(branch=branch_tree["station_a"], name="李四")

    assert listed_ids(secretary_client.get(LIST, {"search": "zs"})) == [zhang.pk]
    assert listed_ids(secretary_client.get(LIST, {"search": "zhangsan"})) == [zhang.pk]
    assert listed_ids(secretary_client.get(LIST, {"search": "张"})) == [zhang.pk]


def test_member_list_finds_by_last_digits_of_phone(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], phone="13800004321")
    MemberFactory(branch=branch_tree["station_a"], phone="13800001234")

    assert listed_ids(secretary_client.get(LIST, {"search": "4321"})) == [member.pk]


def test_member_list_refuses_a_full_id_number_in_the_url(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])

    response = secretary_client.get(LIST, {"search": member.citizen_id})

    assert response.status_code == HTTPStatus.OK
    assert response.context["rows"] == []
    assert 'id="member-list-invalid"' in response.content.decode()
    assert 'id="member-search-errors"' in response.content.decode()
    # The search box itself refuses an ID-like value before the browser sends it.
    assert 'pattern="' in response.content.decode()


def test_member_list_branch_filter_is_a_subtree(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["district"], Role.OFFICER))
    a = MemberFactory(branch=branch_tree["station_a"])
    b = MemberFactory(branch=branch_tree["station_b"])
    MemberFactory(branch=branch_tree["building"])

    response = client.get(LIST, {"branch": str(branch_tree["delivery"].pk)})

    assert set(listed_ids(response)) == {a.pk, b.pk}


def test_member_list_filters_by_category_occupation_platform_unit_and_voting(secretary_client, branch_tree):
    station = branch_tree["station_a"]
    unit = UnitFactory(branch=station)
    meituan = Platform.objects.get(code="meituan")
    rider = MemberFactory(branch=station, occupation="delivery_rider", platforms=[meituan], unit=unit)
    probationer = MemberFactory(branch=station, category="probationary", occupation="courier")
    disciplined = MemberFactory(branch=station, under_probation_discipline=True)

    assert listed_ids(secretary_client.get(LIST, {"category": "probationary"})) == [probationer.pk]
    assert listed_ids(secretary_client.get(LIST, {"occupation": "delivery_rider"})) == [rider.pk]
    assert listed_ids(secretary_client.get(LIST, {"platform": "meituan"})) == [rider.pk]
    assert listed_ids(secretary_client.get(LIST, {"unit": str(unit.pk)})) == [rider.pk]
    assert set(listed_ids(secretary_client.get(LIST, {"voting": "false"}))) == {probationer.pk, disciplined.pk}
    assert listed_ids(secretary_client.get(LIST, {"voting": "true"})) == [rider.pk]


def test_member_list_filter_form_offers_scope_branches_units_and_platforms(secretary_client, branch_tree):
    UnitFactory(branch=branch_tree["station_a"], name="Mine unit")
    UnitFactory(branch=branch_tree["station_b"], name="Sibling unit")

    content = secretary_client.get(LIST).content.decode()

    assert f'value="{branch_tree["station_a"].pk}"' in content
    assert f'value="{branch_tree["station_b"].pk}"' not in content
    assert "Mine unit" in content
    assert "Sibling unit" not in content
    assert 'value="meituan"' in content


#
# Sort and keyset pages
#
def test_member_list_sorts_by_pinyin_name(secretary_client, branch_tree):
    station = branch_tree["station_a"]
    for name in ("赵六", "李四", "张三", "王五"):
        MemberFactory(branch=station, name=name)

    assert listed_names(secretary_client.get(LIST)) == ["李四", "王五", "张三", "赵六"]
    assert listed_names(secretary_client.get(LIST, {"sort": "-name"})) == ["赵六", "张三", "王五", "李四"]


def test_member_list_sorts_by_joined_date_newest_first(secretary_client, branch_tree):
    station = branch_tree["station_a"]
    old = MemberFactory(branch=station, joined_on=datetime.date(2001, 7, 1))
    new = MemberFactory(branch=station, joined_on=datetime.date(2020, 7, 1))

    assert listed_ids(secretary_client.get(LIST, {"sort": "-joined_on"})) == [new.pk, old.pk]
    assert listed_ids(secretary_client.get(LIST, {"sort": "joined_on"})) == [old.pk, new.pk]


def _walk(client, params, *, direction: str) -> list[list]:
    """Pages followed through the "next" (or "previous") link until there is none."""
    pages = []
    response = client.get(LIST, params)
    while True:
        pages.append(listed_ids(response))
        url = response.context[f"{direction}_url"]
        if url is None:
            return pages, response
        response = client.get(LIST + url)


@pytest.mark.parametrize("sort", ["name", "-name", "joined_on", "-joined_on", "updated", "-updated"])
def test_member_list_keyset_pages_lose_and_repeat_nothing(secretary_client, branch_tree, monkeypatch, sort):
    monkeypatch.setattr(views, "PER_PAGE", 4)
    station = branch_tree["station_a"]
    # Many ties on the sort keys (names and dates repeat), so the id must break them.
    for n in range(15):
        MemberFactory(
            branch=station, name=["张三", "李四", "王五"][n % 3], joined_on=datetime.date(2010 + n % 2, 7, 1)
        )
    expected = set(Member.objects.filter(branch=station).values_list("pk", flat=True))

    forward, last = _walk(secretary_client, {"sort": sort}, direction="next")

    seen = [pk for page in forward for pk in page]
    assert [len(page) for page in forward] == [4, 4, 4, 3]
    assert len(seen) == len(set(seen)) == 15
    assert set(seen) == expected

    backward = [listed_ids(last)]
    response = last
    while response.context["previous_url"]:
        response = secretary_client.get(LIST + response.context["previous_url"])
        backward.append(listed_ids(response))
    assert backward[::-1] == forward


def test_member_list_keyset_cursor_keeps_the_filters(secretary_client, branch_tree, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    station = branch_tree["station_a"]
    probationers = {MemberFactory(branch=station, category="probationary").pk for _ in range(3)}
    MemberFactory(branch=station)

    first = secretary_client.get(LIST, {"category": "probationary"})
    second = secretary_client.get(LIST + first.context["next_url"])

    assert "category=probationary" in first.context["next_url"]
    assert set(listed_ids(first)) | set(listed_ids(second)) == probationers
    assert second.context["next_url"] is None


def test_member_list_bad_cursor_shows_the_first_page(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])

    for cursor in ("garbage!", "eyJvIjpbIngiXX0"):
        response = secretary_client.get(LIST, {"cursor": cursor})
        assert response.status_code == HTTPStatus.OK
        assert listed_ids(response) == [member.pk]


@pytest.mark.parametrize("rows", [10, 60])
def test_member_list_costs_the_same_queries_for_10_and_60_rows(
    client, branch_tree, role_at, django_assert_num_queries, rows
):
    station = branch_tree["station_a"]
    meituan = Platform.objects.get(code="meituan")
    unit = UnitFactory(branch=station)
    for n in range(rows):
        member = MemberFactory(branch=station, platforms=[meituan], unit=unit)
        if n % 5 == 0:
            actions.affiliation_add(
                actor=None,
                member=member,
                branch=branch_tree["building"],
                kind="building",
                started_on=datetime.date(2020, 1, 1),
            )
    client.force_login(role_at(station, Role.SECRETARY))

    # session, user, grants, filter choices (branches, units, platforms), members, their platforms and affiliations,
    # the header's unread-notification count
    with django_assert_num_queries(10):
        response = client.get(LIST)
    assert len(response.context["rows"]) == min(rows, views.PER_PAGE)

    # Showing full numbers adds one INSERT of all the audit entries, whatever the page length.
    with django_assert_num_queries(11):
        client.get(LIST, {"show": "full"})


#
# Masks and full values
#
def test_member_list_and_detail_are_masked_for_an_organiser(client, organiser, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], phone="13812345678")
    client.force_login(organiser)

    for url in (LIST, LIST + "?show=full", detail_url(member), detail_url(member) + "?show=full"):
        content = client.get(url).content.decode()
        assert member.citizen_id not in content, url
        assert "13812345678" not in content, url
        assert member.citizen_id_masked in content, url
        assert "138****5678" in content, url
    assert not AuditEntry.objects.filter(action="members.member.id_viewed").exists()
    assert 'id="member-show-full"' not in client.get(detail_url(member)).content.decode()


def test_member_list_is_masked_for_a_secretary_until_asked(secretary_client, secretary, branch_tree):
    members = [MemberFactory(branch=branch_tree["station_a"]) for _ in range(3)]

    masked = secretary_client.get(LIST).content.decode()
    assert all(m.citizen_id not in masked for m in members)
    assert not AuditEntry.objects.filter(action="members.member.id_viewed").exists()

    full = secretary_client.get(LIST, {"show": "full"}).content.decode()
    assert all(m.citizen_id in full and m.phone in full for m in members)
    entries = AuditEntry.objects.filter(action="members.member.id_viewed", actor=secretary)
    assert {e.object_id for e in entries} == {str(m.pk) for m in members}


def test_member_detail_shows_full_values_to_a_secretary_and_audits(secretary_client, secretary, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], phone="13812345678")

    masked = secretary_client.get(detail_url(member)).content.decode()
    assert member.citizen_id not in masked
    assert 'id="member-show-full"' in masked

    full = secretary_client.get(detail_url(member), {"show": "full"}).content.decode()
    assert member.citizen_id in full
    assert "13812345678" in full
    entry = AuditEntry.objects.get(action="members.member.id_viewed")
    assert entry.actor == secretary
    assert entry.object_id == str(member.pk)


#
# Detail: profile, affiliations, history
#
def test_member_detail_shows_profile_and_derived_voting_rights(secretary_client, branch_tree):
    unit = UnitFactory(branch=branch_tree["station_a"], name="Swift Delivery Ltd")
    voter = MemberFactory(
        branch=branch_tree["station_a"],
        name="张三",
        occupation="delivery_rider",
        unit=unit,
        platforms=list(Platform.objects.filter(code__in=["meituan", "eleme"])),
        address="幸福路 8 号",
    )
    probationer = MemberFactory(branch=branch_tree["station_a"], category="probationary")

    content = secretary_client.get(detail_url(voter)).content.decode()
    assert "Delivery rider" in content
    assert "美团, 饿了么" in content
    assert "Swift Delivery Ltd" in content
    assert "幸福路 8 号" in content
    assert "Yes, at the formal branch" in content
    assert secretary_client.get(detail_url(probationer)).context["member"].has_voting_rights is False


def test_member_detail_history_lists_changes_newest_first_with_masks(secretary_client, secretary, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], address="旧地址", phone="13812345678")
    actions.member_update(actor=secretary, member=member, address="新地址", phone="13900001111")
    secretary_client.get(detail_url(member), {"show": "full"})  # a look, not a change

    response = secretary_client.get(detail_url(member))

    rows = response.context["history"]
    assert [row["action"] for row in rows] == ["Record changed", "Record created"]
    changed = {c["label"]: (c["before"], c["after"]) for c in rows[0]["changes"]}
    assert changed["Home address"] == ("旧地址", "新地址")
    assert changed["Phone"] == ("138****5678", "139****1111")
    assert rows[0]["actor"] == str(secretary)
    content = response.content.decode()
    assert "13900001111" not in content
    assert member.citizen_id not in content


def test_member_detail_history_pages_with_a_keyset(secretary_client, secretary, branch_tree, monkeypatch):
    monkeypatch.setattr(views, "HISTORY_PER_PAGE", 2)
    member = MemberFactory(branch=branch_tree["station_a"])
    for n in range(4):
        actions.member_update(actor=secretary, member=member, address=f"地址 {n}")

    first = secretary_client.get(detail_url(member))
    second = secretary_client.get(detail_url(member) + first.context["history_older_url"])
    third = secretary_client.get(detail_url(member) + second.context["history_older_url"])

    entries = [row["entry"].pk for r in (first, second, third) for row in r.context["history"]]
    assert len(entries) == len(set(entries)) == 5
    assert third.context["history_older_url"] is None


def test_affiliation_add_and_end_from_the_pages(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    add_url = reverse("members:affiliation_add", kwargs={"pk": member.pk})

    response = secretary_client.post(
        add_url, {"branch": str(branch_tree["building"].pk), "kind": "building", "started_on": "2024-03-01"}
    )

    assert response.status_code == HTTPStatus.FOUND
    affiliation = Affiliation.objects.get(member=member)
    content = secretary_client.get(detail_url(member)).content.decode()
    assert "Building joint branch" in content
    assert "Affiliation added" in content

    end_url = reverse("members:affiliation_end", kwargs={"pk": member.pk})
    response = secretary_client.post(end_url, {"affiliation": str(affiliation.pk), "ended_on": "2024-06-30"})

    assert response.status_code == HTTPStatus.FOUND
    affiliation.refresh_from_db()
    assert affiliation.ended_on == datetime.date(2024, 6, 30)


def test_affiliation_add_refuses_the_formal_branch_in_place(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    add_url = reverse("members:affiliation_add", kwargs={"pk": member.pk})

    response = secretary_client.post(
        add_url, {"branch": str(branch_tree["station_a"].pk), "kind": "functional", "started_on": "2024-03-01"}
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["branch"]
    assert not Affiliation.objects.exists()


#
# Create and edit forms
#
def test_member_create_records_the_member_and_redirects(secretary_client, branch_tree):
    response = secretary_client.post(CREATE, form_data(branch_tree["station_a"]))

    member = Member.objects.get(name="王芳")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == detail_url(member)
    assert member.sex == "female"  # taken from the ID number
    assert member.birth_date == datetime.date(1991, 2, 3)
    assert sorted(member.platforms.values_list("code", flat=True)) == ["eleme", "meituan"]
    assert AuditEntry.objects.filter(action="members.member.created", object_id=str(member.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (
            {"citizen_id": with_wrong_check_digit(make_citizen_id(300, birth=datetime.date(1991, 2, 3), male=False))},
            "citizen_id",
        ),
        ({"birth_date": "1990-01-01"}, "birth_date"),
        ({"sex": "male"}, "sex"),
        ({"name": ""}, "name"),
        ({"category": "probationary"}, "full_member_on"),
    ],
    ids=["bad-check-digit", "birth-date-mismatch", "sex-mismatch", "missing-name", "probationary-with-full-date"],
)
def test_member_create_shows_errors_in_place_and_records_nothing(secretary_client, branch_tree, overrides, field):
    before = AuditEntry.objects.count()

    response = secretary_client.post(CREATE, form_data(branch_tree["station_a"], **overrides))

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors[field]
    assert f'id="id_{field}_errors"' in response.content.decode()
    assert not Member.objects.exists()
    assert AuditEntry.objects.count() == before


def test_member_create_refuses_a_duplicate_id_number_in_place(secretary_client, branch_tree):
    existing = MemberFactory(branch=branch_tree["station_b"])  # outside the secretary's scope, still unique

    response = secretary_client.post(CREATE, form_data(branch_tree["station_a"], citizen_id=existing.citizen_id))

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["citizen_id"] == ["A member with this citizen ID number already exists."]
    assert Member.objects.count() == 1


def test_member_create_error_never_puts_the_id_number_in_a_url_or_message(secretary_client, branch_tree):
    bad = with_wrong_check_digit(make_citizen_id(901))

    response = secretary_client.post(CREATE, form_data(branch_tree["station_a"], citizen_id=bad))

    errors = " ".join(str(e) for errors in response.context["form"].errors.values() for e in errors)
    assert bad not in errors
    # Re-shown only inside the user's own form, over POST, so they can correct it.
    assert f'value="{bad}"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_member_create_offers_only_branches_of_the_change_scope(secretary_client, branch_tree):
    response = secretary_client.post(CREATE, form_data(branch_tree["station_b"]))

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["branch"]
    assert not Member.objects.exists()


def test_member_edit_changes_fields_and_keeps_the_id_when_left_empty(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], name="张三", phone="13812345678")
    number = member.citizen_id
    data = form_data(
        branch_tree["station_a"],
        name="张三丰",
        citizen_id="",
        phone="",
        sex="",
        birth_date="",
        address="新地址",
        username="",
    )

    response = secretary_client.post(edit_url(member), data)

    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.name == "张三丰"
    assert member.address == "新地址"
    assert member.citizen_id == number
    assert member.phone == "13812345678"


def test_member_edit_form_starts_with_masks_not_full_numbers(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], phone="13812345678")

    content = secretary_client.get(edit_url(member)).content.decode()

    assert member.citizen_id not in content
    assert "13812345678" not in content
    assert member.citizen_id_masked in content


def test_member_edit_links_a_login_account(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])
    account = UserFactory(username="wangfang")

    data = form_data(branch_tree["station_a"], citizen_id="", phone="", username="wangfang")
    response = secretary_client.post(edit_url(member), data)

    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.user == account

    unknown = secretary_client.post(edit_url(member), {**data, "username": "nobody"})
    assert unknown.context["form"].errors["username"]


#
# Escaping
#
def test_member_name_with_html_is_escaped_on_list_and_detail(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"], name='<script>alert("x")</script>')

    for url in (LIST, detail_url(member)):
        content = secretary_client.get(url).content.decode()
        assert '<script>alert("x")</script>' not in content, url
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content, url


#
# Lookup by full ID number (POST)
#
def test_member_lookup_redirects_to_the_record_without_the_number_in_the_url(secretary_client, branch_tree):
    member = MemberFactory(branch=branch_tree["station_a"])

    response = secretary_client.post(LOOKUP, {"citizen_id": member.citizen_id})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == detail_url(member)


def test_member_lookup_does_not_find_a_sibling_branch_member(secretary_client, branch_tree):
    sibling = MemberFactory(branch=branch_tree["station_b"])

    response = secretary_client.post(LOOKUP, {"citizen_id": sibling.citizen_id}, follow=True)

    assert response.redirect_chain[-1][0] == LIST
    content = response.content.decode()
    assert "No member in your scope has this citizen ID number." in content
    assert sibling.citizen_id not in content


#
# The member's own record
#
@pytest.fixture
def own_member(branch_tree):
    account = UserFactory()
    member = MemberFactory(branch=branch_tree["station_a"], name="刘洋", phone="13812345678", address="旧地址")
    actions.member_update(actor=None, member=member, user=account)
    member.refresh_from_db()
    return member


def test_member_self_shows_the_own_full_record_and_the_menu_link(client, own_member):
    client.force_login(own_member.user)

    response = client.get(SELF)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert own_member.citizen_id in content
    assert 'id="nav-member-self"' in content
    for name in ("notices:notice_mine", "votes:vote_mine", "appraisal:my_list", "activities:my_study_hours"):
        assert f'href="{reverse(name)}"' in content
    assert AuditEntry.objects.filter(action="members.member.id_viewed", actor=own_member.user).count() == 1


def test_member_self_changes_only_phone_and_address(client, own_member):
    client.force_login(own_member.user)
    before = Member.objects.values().get(pk=own_member.pk)

    response = client.post(
        SELF,
        {
            "phone": "13900001111",
            "address": "新地址",
            "name": "Somebody else",
            "citizen_id": make_citizen_id(42),
            "category": "probationary",
            "status": "removed",
            "branch": "00000000-0000-0000-0000-000000000000",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    after = Member.objects.values().get(pk=own_member.pk)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"address", "phone_cipher", "phone_last4", "phone_masked", "version", "updated_at"}
    own_member.refresh_from_db()
    assert own_member.phone == "13900001111"
    assert own_member.address == "新地址"


def test_member_self_shows_a_bad_phone_in_place(client, own_member):
    client.force_login(own_member.user)

    response = client.post(SELF, {"phone": "12", "address": "新地址"})

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["phone"]
    own_member.refresh_from_db()
    assert own_member.address == "旧地址"


def test_member_self_without_a_linked_record_is_a_friendly_page(client, branch_tree):
    client.force_login(UserFactory())

    response = client.get(SELF)

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="member-self-none"' in content
    assert 'id="nav-member-self"' not in content


def test_member_edit_keeps_a_unit_outside_the_unit_scope(secretary_client, branch_tree):
    foreign_unit = UnitFactory(branch=branch_tree["station_b"])
    member = MemberFactory(branch=branch_tree["station_a"], unit=foreign_unit)
    data = form_data(branch_tree["station_a"], citizen_id="", phone="", address="新地址", unit=str(foreign_unit.pk))

    response = secretary_client.post(edit_url(member), data)

    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.unit == foreign_unit
    assert member.address == "新地址"
