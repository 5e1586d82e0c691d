"""Browser journeys: real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; never `playwright install`) against Django's live server.

Every test here is marked `e2e` and skips cleanly where Chromium is missing, so a
developer without it can still run `make test`; `.ci/run` installs it. A failing test
leaves a full-page screenshot of every open page in test-artifacts/.
"""

import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission

# Playwright's sync API runs an event loop in this thread; the ORM calls our fixtures
# make from it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("SHOPAUTO_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = shutil.which(CHROMIUM) is not None
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-quic"]


def pytest_collection_modifyitems(config, items):
    here = str(Path(__file__).parent)
    skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)
            if not HAVE_CHROMIUM and not os.environ.get("CI"):
                item.add_marker(skip)  # in CI a missing browser is a failure, not a skip


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": LAUNCH_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request, context):
    """Full-page screenshots of every page of the test's browser context on failure."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
    for index, page in enumerate(context.pages):
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}-{index}.png"), full_page=True)
            (ARTIFACTS / f"{name}-{index}.html").write_text(page.content())
        except Exception as error:  # noqa: BLE001 - a screenshot must never hide the real failure
            print(f"screenshot failed: {error}")


@pytest.fixture(autouse=True)
def _open_rate_limits(settings):
    settings.PUBLIC_LOOKUP_RATE_LIMIT = "1000/m"


class E2EShop:
    """The orders test shop plus what the journeys need: a company contract price
    list, a B2B buyer and approver, a consumer and a staff user who ships."""

    def __init__(self):
        from catalog.models import PriceList, PriceListEntry
        from customers.models import CustomerProfile
        from tests.factories import AddressFactory, CompanyFactory, CustomerFactory, StaffFactory
        from tests.orders.conftest import Shop

        self.shop = Shop()
        self.drill = self.shop.variant("DRILL-1", price="100.00", stock_units=500)
        self.saw = self.shop.variant("SAW-1", price="40.00", stock_units=500)
        self.company = CompanyFactory(name="Acme", code="acme", credit_limit=Decimal("100000.00"),
                                      approval_threshold=Decimal("1000.00"))
        contract = PriceList.objects.create(name="Acme contract", currency="EUR", scope=PriceList.Scope.COMPANY,
                                            company=self.company)
        PriceListEntry.objects.create(price_list=contract, variant=self.drill, min_quantity=1,
                                      unit_price=Decimal("80.00"))
        self.buyer = CustomerFactory(company=self.company, role=CustomerProfile.Role.BUYER,
                                     user__username="buyer@acme.example", user__email="buyer@acme.example")
        AddressFactory(company=self.company, region="EU-SOUTH")
        self.approver = CustomerFactory(company=self.company, role=CustomerProfile.Role.APPROVER,
                                        user__username="approver@acme.example", user__email="approver@acme.example")
        self.consumer = CustomerFactory(user__username="ana@example.com", user__email="ana@example.com")
        AddressFactory(profile=self.consumer, region="EU-SOUTH")
        self.staff = StaffFactory(username="shipper", email="shipper@shop.example")
        self.staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="orders"))

    def details(self, customer, payment="invoice"):
        from tests.orders.conftest import details_for

        return details_for(customer, payment=payment)


@pytest.fixture
def e2e_shop(transactional_db):
    return E2EShop()


@pytest.fixture
def portal(live_server):
    """Helpers bound to the live server: `portal.url("/orders/")`, `portal.login(page, email)`."""
    from tests.factories import PASSWORD

    class Portal:
        base = live_server.url

        def url(self, path):
            return f"{self.base}{path}"

        def login(self, page, email, password=PASSWORD):
            page.goto(self.url("/account/login/"))
            page.fill("input[name=username]", email)
            page.fill("input[name=password]", password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            assert "/account/login/" not in page.url, page.inner_text("main") if page.locator("main").count() else ""

        def admin_login(self, page, username, password=PASSWORD):
            page.goto(self.url("/admin/login/"))
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            page.locator("input[type=submit]").click()
            page.wait_for_load_state()

    return Portal()
