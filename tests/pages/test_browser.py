"""The report in headless Chromium (Debian's chromium + chromium-driver): the tests
open the pages, check what a person sees, keep screenshots in test-artifacts/report/,
and fail when a page loads anything that is not file: or data:."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CHROMEDRIVER, CHROMIUM, chromium
from report_sample import EVIL_NAME, PERSON_A, sample_input

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "report"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from pages.site import build

    root = tmp_path_factory.mktemp("site")
    for relative, html in build(sample_input()).items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(html, encoding="utf-8")
    return root


def requests_made(driver) -> list[str]:
    """Every URL the browser asked for since the last call (the DevTools network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def outside_requests(urls: list[str]) -> list[str]:
    return [url for url in urls if not url.startswith(("file:", "data:"))]


def open_page(driver, path: Path) -> list[str]:
    requests_made(driver)  # forget what earlier pages asked for
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")
    return requests_made(driver)


def screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a rendered page, not a blank image
    return path


def test_index_shows_the_queue_and_filters_and_sorts_it(browser, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(browser, site / "index.html")
    assert "Investigation queue" in browser.title
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows] == ["CASE0001", "CASE0002"]
    assert "1 new" in browser.find_element(By.ID, "changes").text
    screenshot(browser, "index.png")

    Select(browser.find_element(By.ID, "typology")).select_by_value("ABROAD_CERTIFICATION")
    visible = [r for r in browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr") if r.is_displayed()]
    assert [r.find_elements(By.TAG_NAME, "td")[1].text for r in visible] == ["CASE0002"]
    assert browser.find_element(By.ID, "shown").text == "1 of 2 cases shown"
    Select(browser.find_element(By.ID, "typology")).select_by_value("")

    browser.find_element(By.CSS_SELECTOR, "#queue thead th:nth-child(1)").click()  # rank, ascending
    browser.find_element(By.CSS_SELECTOR, "#queue thead th:nth-child(1)").click()  # rank, descending
    rows = browser.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows] == ["2", "1"]


def test_case_page_shows_evidence_timeline_and_escaped_names(browser, site):
    from selenium.webdriver.common.by import By

    open_page(browser, site / "index.html")
    browser.find_element(By.LINK_TEXT, "CASE0001").click()
    assert browser.title.startswith("Case CASE0001")
    subject = browser.find_element(By.ID, "subject").text
    assert EVIL_NAME in subject  # the workplace's name, shown as text (no script ran)
    assert PERSON_A not in browser.page_source and PERSON_A[:8] + "…" in subject
    assert browser.find_element(By.CSS_SELECTOR, "svg.timeline").is_displayed()
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.timeline rect.tainted")) == 1
    assert "16,800,000 KRW" in browser.find_element(By.ID, "collection").text
    assert "CL-A-c2" in browser.find_element(By.ID, "certifications").text
    # Wide tables scroll in their own box: the page itself is never wider than the window.
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(browser, "case.png")


def test_ring_page_shows_its_picture_and_members(browser, site):
    from selenium.webdriver.common.by import By

    open_page(browser, site / "rings" / "R-ring1.html")
    picture = browser.find_element(By.ID, "ring-picture")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", picture) > 0
    assert "11111111111" in browser.find_element(By.ID, "members").text
    assert "CL-Q" in browser.find_element(By.ID, "ring-claims").text
    screenshot(browser, "ring.png")


def test_no_page_loads_anything_from_the_network(browser, site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 8  # index, quality, model, safeguards, two cases, a ring, a workplace
    for page in pages:
        requested = open_page(browser, page)
        assert page.as_uri() in requested  # the log works: the page itself was seen
        assert outside_requests(requested) == [], page


def test_the_network_check_catches_an_external_image(browser, tmp_path):
    """The check above can fail: a page with an external <img> is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://192.0.2.1/pixel.png"></body></html>')
    assert outside_requests(open_page(browser, page)) == ["http://192.0.2.1/pixel.png"]


def test_chromium_is_where_the_tests_expect_it():
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)
