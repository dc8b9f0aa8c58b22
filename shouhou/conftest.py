"""Shared test personas. Alice runs organisation A; Oscar runs organisation B and must never
see or change anything of A (and the other way round)."""

from __future__ import annotations

import pytest

from shouhou.accounts.models import Organization, User
from shouhou.core.sms import FakeSmsBackend
from shouhou.core.testing.factories import MembershipFactory, OrganizationFactory, UserFactory


@pytest.fixture(autouse=True)
def _fake_sms() -> None:
    FakeSmsBackend.reset()


@pytest.fixture
def sms_outbox() -> list:
    return FakeSmsBackend.outbox


@pytest.fixture
def org_a(db: None) -> Organization:
    return OrganizationFactory(name="甲品牌", code="org-a", kind="brand")


@pytest.fixture
def org_b(db: None) -> Organization:
    return OrganizationFactory(name="乙服务商", code="org-b", kind="provider")


def _member(org: Organization, role: str, phone: str, name: str) -> User:
    user = UserFactory(phone=phone, display_name=name, is_staff=(role == "admin"))
    MembershipFactory(user=user, organization=org, role=role)
    return user


@pytest.fixture
def alice(org_a: Organization) -> User:
    """Administrator of organisation A."""
    return _member(org_a, "admin", "+8613900000001", "Alice")


@pytest.fixture
def agent(org_a: Organization) -> User:
    return _member(org_a, "agent", "+8613900000002", "Agnes")


@pytest.fixture
def technician(org_a: Organization) -> User:
    return _member(org_a, "technician", "+8613900000003", "Tom")


@pytest.fixture
def finance(org_a: Organization) -> User:
    return _member(org_a, "finance", "+8613900000004", "Fiona")


@pytest.fixture
def auditor(org_a: Organization) -> User:
    return _member(org_a, "auditor", "+8613900000005", "Audrey")


@pytest.fixture
def outlet_manager(org_a: Organization) -> User:
    return _member(org_a, "outlet_manager", "+8613900000006", "Owen")


@pytest.fixture
def customer(db: None) -> User:
    """A person with no membership."""
    return UserFactory(phone="+8613900000007", display_name="Carol")


@pytest.fixture
def other_org_user(org_b: Organization) -> User:
    """Oscar, administrator of organisation B: must see nothing of A."""
    return _member(org_b, "admin", "+8613900000009", "Oscar")


@pytest.fixture
def platform_admin(db: None) -> User:
    return User.objects.create_superuser(phone="13900000000", password="correct-horse-battery")  # noqa: S106


# --- real browser --------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def _chromium():
    """A headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    import os
    import shutil

    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        if os.environ.get("SHOUHOU_REQUIRE_BROWSER"):
            pytest.fail("chromium is required for browser tests (apt-get install chromium)")
        pytest.skip("chromium is not installed; .ci/run installs it")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_chromium, live_server):
    """A fresh browser context (phone-sized) per test; ``page.base_url`` is the live server."""
    context = _chromium.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    browser_page = context.new_page()
    yield browser_page
    context.close()


@pytest.fixture(autouse=True)
def _live_pages_only_where_tested(request: pytest.FixtureRequest) -> None:
    """Browser tests run without the pages' live streams unless marked ``live_pages``.

    The live server shares one in-memory SQLite connection between its threads; a page's own
    live refresh running beside the test's next click could use it at the same time.
    """
    if request.node.get_closest_marker("browser") and not request.node.get_closest_marker(
        "live_pages"
    ):
        request.getfixturevalue("settings").LIVE_PAGES = False
