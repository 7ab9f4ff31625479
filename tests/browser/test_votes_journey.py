"""A branch vote in a real browser: the secretary publishes a notice and opens a secret vote, three members
read the notice and vote on phone-sized screens, the secretary closes the vote and the result appears."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from branches.choices import Role
from members.models import Vote
from tests.branches.factories import UserFactory
from tests.members.factories import MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests.branches.factories.UserFactory's password
# The phone of tests/browser/conftest.py (390×844, touch); each member gets a context of their own.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
MIN_TOUCH_TARGET_PX = 44


def _member_votes_on_a_phone(browser, live_server, log_in, member, *, answer: str, notice_title: str, vote: Vote):
    context = browser.new_context(base_url=live_server.url, locale="en-US", **PHONE)
    try:
        page = context.new_page()
        log_in(page, member.user.username, PASSWORD)
        # The notice is there to read first.
        page.goto(reverse("notices:notice_mine"))
        expect(page.locator("#my-notices .notice-title")).to_have_text([notice_title])

        page.goto(reverse("votes:vote_mine"))
        page.locator(f"#vote-mine-{vote.pk} .vote-now-link").click()
        expect(page.locator("#vote-title")).to_have_text(vote.title)
        choice = page.locator(".ballot-option", has_text=answer)
        box = choice.bounding_box()
        assert box is not None
        assert box["height"] >= MIN_TOUCH_TARGET_PX
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["viewport"]["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
        choice.tap()
        page.locator("#ballot-submit").tap()

        expect(page.locator("#vote-recorded")).to_be_visible()
        expect(page.locator("#vote-recorded")).to_contain_text("Your vote is recorded.")
        # A secret ballot: the choice is echoed nowhere.
        expect(page.locator("#vote-my-choices")).to_have_count(0)
        expect(page.locator("#ballot-form")).to_have_count(0)
        return context, page
    except Exception:
        context.close()
        raise


def test_secretary_opens_a_vote_members_vote_on_phones_and_the_result_appears(
    browser, desktop_page, live_server, branch_tree, role_at, log_in
):
    branch = branch_tree["station_a"]
    secretary = role_at(branch, Role.SECRETARY)
    members = [MemberFactory(branch=branch, name=name, user=UserFactory()) for name in ("张三", "李四", "王五")]
    MemberFactory(branch=branch, name="赵六", category="probationary")  # no vote: not on the roll

    # The secretary publishes a notice of the decision to come …
    page = desktop_page
    log_in(page, secretary.username, PASSWORD)
    page.goto(reverse("notices:notice_create"))
    page.locator("#id_branch").select_option(str(branch.pk))
    page.locator("#id_title").fill("Vote on the rest-station opening hours")
    page.locator("#id_body").fill("Vote in the portal by Friday: keep the station open until 23:00?")
    page.locator("#notice-submit").click()
    page.locator("#notice-publish").click()
    expect(page.locator("#notice-status")).to_have_attribute("data-state", "open")

    # … drafts a secret decision vote and opens it.
    page.goto(reverse("votes:vote_list"))
    page.locator("#vote-create-link").click()
    page.locator("#id_branch").select_option(str(branch.pk))
    page.locator("#id_title").fill("Keep the station open until 23:00")
    page.locator("#id_secret").check()
    page.locator("#vote-create-submit").click()
    expect(page.locator("#vote-status")).to_have_attribute("data-status", "draft")
    page.locator("#vote-open-submit").click()
    expect(page.locator("#vote-status")).to_have_attribute("data-status", "open")
    expect(page.locator("#vote-roll-size")).to_have_text("3")
    vote = Vote.objects.get()
    assert vote.secret

    # Three members vote on their phones.
    contexts = []
    try:
        for member, answer in zip(members, ("For", "For", "Against"), strict=True):
            contexts.append(
                _member_votes_on_a_phone(
                    browser,
                    live_server,
                    log_in,
                    member,
                    answer=answer,
                    notice_title="Vote on the rest-station opening hours",
                    vote=vote,
                )
            )

        # The secretary sees the turnout (no counts per option yet), closes the vote, and the result appears.
        page.reload()
        expect(page.locator("#vote-ballots")).to_have_text("3")
        page.locator("#vote-close-submit").click()
        expect(page.locator("#vote-outcome")).to_have_attribute("data-outcome", "passed")
        expect(page.locator("#result-eligible")).to_have_text("3")
        expect(page.locator("#result-cast")).to_have_text("3 (100%)")
        counts = page.locator("#vote-tally .tally-row .tally-count")
        expect(counts).to_have_text(["2", "1", "0"])

        # A member sees the same result on the phone.
        _context, member_page = contexts[0]
        member_page.goto(reverse("votes:vote_result", kwargs={"pk": vote.pk}))
        expect(member_page.locator("#vote-outcome")).to_have_attribute("data-outcome", "passed")
        expect(member_page.locator("#vote-tally .tally-row .tally-count")).to_have_text(["2", "1", "0"])
    finally:
        for context, _page in contexts:
            context.close()
