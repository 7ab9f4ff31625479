"""Real-browser harness: Playwright's sync API driving Debian's Chromium against pytest-django's live_server.

- Browser tests need `pytest.mark.django_db(transaction=True)`: the live server answers from its own thread,
  so it only sees rows the test has committed.
- Chromium is /usr/bin/chromium (never `playwright install`: no browser download here). When it is missing
  the tests skip with the reason, except under CI=true where they fail: CI must really run them.
- A screenshot of every page of a failed test lands in var/test-results/.

Why DJANGO_ALLOW_ASYNC_UNSAFE: Playwright's sync API keeps an asyncio event loop running in the test thread
(it switches to it through greenlets). Django sees that running loop and refuses ORM calls from the thread
with SynchronousOnlyOperation, although nothing runs concurrently: the test body and the browser take
turns, and the live server answers in its own thread, which has no loop. The variable is set only while
the browser is up (the `browser` fixture, package scope) and restored when the browser package is done,
so the rest of the suite keeps Django's check.
"""

import os
import re
import time
from pathlib import Path

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS_DIR = Path(settings.BASE_DIR) / "var" / "test-results"
TIMEOUT_MS = 15_000

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Mobile Safari/537.36"
    ),
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}

_reports = pytest.StashKey[dict]()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so page fixtures know at teardown whether it failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for the browser tests, closed (and its event loop stopped) after them."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        if _in_ci():
            pytest.fail(f"{reason}; browser tests must run under CI=true", pytrace=False)
        pytest.skip(reason)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _open_page(browser, live_server, request, label: str, options: dict):
    context = browser.new_context(base_url=live_server.url, locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    call = request.node.stash.get(_reports, {}).get("call")
    if call is not None and call.failed:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(RESULTS_DIR / f"{name}-{label}.png"), full_page=True)
    context.close()


@pytest.fixture
def desktop_page(browser, live_server, request):
    """A page in a fresh desktop-sized context (1366×900), base URL = the live server."""
    yield from _open_page(browser, live_server, request, "desktop", DESKTOP)


@pytest.fixture
def phone_page(browser, live_server, request):
    """A page in a fresh phone-sized context (390×844, touch, mobile user agent)."""
    yield from _open_page(browser, live_server, request, "phone", PHONE)


def totp_code(secret: str) -> str:
    """The current TOTP code for `secret`, computed with allauth's own helpers (same digits and period).

    Close to the end of a period it waits for the next one, so the code is still valid when the server checks it.
    """
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 3:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


@pytest.fixture
def totp_secret_for():
    """totp_secret_for(user) -> base32 secret of a real TOTP authenticator, made through allauth's own API."""

    def make(user) -> str:
        secret = generate_totp_secret()
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        TOTP.activate(user, secret)
        return secret

    return make


@pytest.fixture
def log_in():
    """log_in(page, username, password, totp_secret=None): sign in through the real allauth forms.

    With a TOTP secret it answers the second step (the code form) too. A TOTP code is accepted once per
    user within its window, so log one user in at most once per test.
    """

    def sign_in(page, username: str, password: str, totp_secret: str | None = None) -> None:
        page.goto(reverse("account_login"))
        page.locator("input[name=login]").fill(username)
        page.locator("input[name=password]").fill(password)
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
        if totp_secret is not None:
            page.wait_for_url(re.compile(re.escape(reverse("mfa_authenticate"))))
            page.locator("input[name=code]").fill(totp_code(totp_secret))
            page.locator("form:has(input[name=code]) [type=submit]").first.click()
        page.wait_for_url(lambda url: "/accounts/" not in url)

    return sign_in
