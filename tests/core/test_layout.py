"""The site layout: header with user and roles, navigation, language switch, static assets."""

from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse

from branches.choices import Role
from tests.branches.factories import UserFactory

pytestmark = pytest.mark.django_db

CHINESE_TITLE = "新兴领域党建工作平台"


@pytest.fixture
def secretary_client(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY, user=UserFactory(display_name="Wang Fang")))
    return client


def test_layout_shows_user_name_and_roles(secretary_client):
    content = secretary_client.get(reverse("home")).content.decode()

    assert '<span class="user-name" id="user-name">Wang Fang</span>' in content
    assert '<span class="user-roles" id="user-roles">Branch secretary</span>' in content


def test_layout_links_existing_apps_and_greys_out_the_rest(secretary_client):
    content = secretary_client.get(reverse("home")).content.decode()

    assert f'href="{reverse("branches:branch_tree")}" id="nav-branches"' in content
    assert f'href="{reverse("api-docs")}" id="nav-api-docs"' in content
    for element_id in ("nav-members", "nav-activities", "nav-services"):
        match = content.split(f'id="{element_id}"')[0].rsplit("<", 1)[1]
        # Either a real link (the app exists) or a greyed entry without a link.
        assert match.startswith("a href=") or match.startswith('span class="nav-soon"')


def test_layout_marks_current_section(secretary_client):
    content = secretary_client.get(reverse("branches:branch_tree")).content.decode()

    assert 'id="nav-branches" aria-current="page"' in content


def test_layout_logs_out_by_post_and_sends_csrf_token_to_htmx(secretary_client):
    response = secretary_client.get(reverse("home"))
    content = response.content.decode()

    assert f'id="logout-form" method="post" action="{reverse("account_logout")}"' in content
    assert 'hx-headers=\'{"X-CSRFToken": "' in content
    assert "vendor/htmx/htmx.min.js" in content
    assert "css/app.css" in content


def test_home_lists_roles_with_links_to_viewable_branches(client, branch_tree, role_at):
    person = role_at(branch_tree["station_a"], Role.SECRETARY)
    role_at(branch_tree["building"], Role.MEMBER, user=person)
    client.force_login(person)

    content = client.get(reverse("home")).content.decode()

    assert reverse("branches:branch_detail", kwargs={"pk": branch_tree["station_a"].pk}) in content
    # A member role alone does not open the branch page, so the name is not a link.
    assert "Building joint branch" in content
    assert reverse("branches:branch_detail", kwargs={"pk": branch_tree["building"].pk}) not in content


def test_home_for_user_without_roles(client, user):
    client.force_login(user)

    response = client.get(reverse("home"))

    assert response.status_code == HTTPStatus.OK
    assert "You hold no role yet." in response.content.decode()


def test_static_assets_are_served_from_the_project(client):
    for path in ("css/app.css", "js/tree.js", "vendor/htmx/htmx.min.js", "vendor/htmx/LICENSE"):
        assert finders.find(path), path


#
# Languages
#
def test_default_language_is_simplified_chinese(client, settings):
    from config.settings import base

    settings.LANGUAGE_CODE = base.LANGUAGE_CODE  # the test settings pin English

    response = client.get(reverse("account_login"))

    content = response.content.decode()
    assert base.LANGUAGE_CODE == "zh-hans"
    assert '<html lang="zh-hans">' in content
    assert CHINESE_TITLE in content


def test_chinese_browser_gets_chinese_pages(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    content = response.content.decode()
    assert '<html lang="zh-hans">' in content
    assert CHINESE_TITLE in content


def test_language_switch_to_english_sticks(secretary_client):
    chinese = secretary_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert CHINESE_TITLE in chinese.content.decode()

    response = secretary_client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("home")
    english = secretary_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in english
    assert "Emerging-Sector Party Building Platform" in english
    assert 'id="lang-en" lang="en" aria-pressed="true"' in " ".join(english.split())


def test_language_switch_to_chinese(secretary_client):
    secretary_client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("home")})

    content = secretary_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="zh-hans">' in content
    assert CHINESE_TITLE in content


def test_language_switch_works_logged_out(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("account_login")})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("account_login")
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"


#
# Error pages
#
def test_not_found_page_uses_site_layout(client, branch_tree, role_at):
    client.force_login(role_at(branch_tree["station_a"], Role.SECRETARY))

    response = client.get(reverse("branches:branch_detail", kwargs={"pk": branch_tree["station_b"].pk}))

    assert response.status_code == HTTPStatus.NOT_FOUND
    content = response.content.decode()
    assert 'id="site-nav"' in content
    assert "Page not found" in content


def test_forbidden_page_explains_in_site_layout(client, branch_tree, role_at):
    station_a = branch_tree["station_a"]
    client.force_login(role_at(station_a, Role.SECRETARY))

    response = client.get(reverse("branches:branch_update", kwargs={"pk": station_a.pk}))

    assert response.status_code == HTTPStatus.FORBIDDEN
    content = response.content.decode()
    assert 'id="site-nav"' in content
    assert "You may not change this organisation." in content


def test_server_error_page_renders_without_request():
    """Django renders 500.html with no request and no context processors; it must still work."""
    content = render_to_string("500.html")

    assert "Server error" in content
    assert "服务器出错了" in content
