"""The workbench in real Chromium, served by uvicorn as `fraudctl serve` serves it: a
supervisor assigns a case, the investigator finds it under "my cases" and clears it with
a reason, the disposition log holds the entry under the investigator's name, and the
next night's queue leaves the case out. On SQLite and on PostgreSQL; screenshots are
kept in test-artifacts/workbench/."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import chromium
from queue_world import NIGHT_1, NIGHT_2, night
from sqlalchemy.orm import Session

from fraud import dispositions
from workbench import auth
from workbench.app import create_app
from workbench.store import INVESTIGATOR, SUPERVISOR, database_url, engine_for, migrate

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "workbench"
PASSWORD = "correct horse battery"
# 09:30 KST on the morning of NIGHT_2: that night applies what is decided now.
MORNING = datetime(2026, 5, 1, 0, 30, tzinfo=UTC)


def publish(warehouse: Path, day) -> None:
    """What the publish stage marks a night with: its run manifest."""
    (warehouse / "outputs" / day.isoformat() / "run_manifest.json").write_text(json.dumps({"ds": day.isoformat()}))


@pytest.fixture
def served(tmp_path, database):
    """The workbench over a warehouse, on a free local port, in a thread."""
    import uvicorn

    warehouse = tmp_path / "warehouse"
    warehouse.mkdir()
    url = database or database_url(warehouse)
    migrate(url)
    with Session(engine_for(url)) as db:
        auth.add_user(db, "park", SUPERVISOR, PASSWORD, MORNING)
        auth.add_user(db, "kim", INVESTIGATOR, PASSWORD, MORNING)
    app = create_app(warehouse, url, clock=lambda: MORNING)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield warehouse, f"http://127.0.0.1:{port}", "postgresql" if database else "sqlite"
    server.should_exit = True
    thread.join(timeout=30)
    app.state.engine.dispose()


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "chromium-profile")
    yield driver
    driver.quit()


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a rendered page, not a blank image


def submit(driver, button: str, then: str) -> None:
    """Click a form's button and wait until the browser is on a URL ending with `then`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.CSS_SELECTOR, button).click()
    WebDriverWait(driver, 20).until(
        lambda d: d.current_url.endswith(then) and d.execute_script("return document.readyState") == "complete"
    )


def log_in(driver, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/index.html")
    assert driver.current_url == f"{base}/login"  # not logged in: the login page
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    submit(driver, "form[action='/login'] button", "/index.html")


def queued_case_ids(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [
        row.find_elements(By.TAG_NAME, "td")[1].text for row in driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")
    ]


def test_assign_clear_and_the_next_night_leaves_the_case_out(spark, served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    warehouse, base, db = served
    _, first = night(spark, warehouse, NIGHT_1)
    publish(warehouse, NIGHT_1)
    case_id = first["CL-p"]["case_id"]

    log_in(browser, base, "park")
    assert sorted(queued_case_ids(browser)) == sorted(row["case_id"] for row in first.values())
    screenshot(browser, f"{db}-queue.png")
    browser.get(f"{base}/cases/{case_id}.html")
    Select(browser.find_element(By.CSS_SELECTOR, "form[action$='/assign'] select")).select_by_visible_text("kim")
    submit(browser, "form[action$='/assign'] button", "?done=assigned")
    assert "Assigned to: kim" in browser.find_element(By.ID, "assignment").text
    screenshot(browser, f"{db}-assigned.png")
    submit(browser, "header form[action='/logout'] button", "/login")

    log_in(browser, base, "kim")
    browser.get(f"{base}/index.html?show=mine")
    assert queued_case_ids(browser) == [case_id]
    browser.get(f"{base}/cases/{case_id}.html")
    browser.find_element(By.CSS_SELECTOR, "input[name=status][value=cleared]").click()
    browser.find_element(By.CSS_SELECTOR, "form[action$='/decision'] textarea").send_keys(
        "part-time work declared at the job centre"
    )
    submit(browser, "form[action$='/decision'] button", "?done=decision")
    assert browser.find_element(By.ID, "message").text == "Decision recorded."
    assert "decision: cleared" in browser.find_element(By.ID, "work-history").text
    screenshot(browser, f"{db}-cleared.png")

    [entry] = dispositions.read_log(warehouse)
    assert (entry.case_id, entry.status, entry.by) == (case_id, "cleared", "kim")
    assert entry.note == "part-time work declared at the job centre"

    _, second = night(spark, warehouse, NIGHT_2)
    publish(warehouse, NIGHT_2)
    assert case_id not in {row["case_id"] for row in second.values()}
    browser.get(f"{base}/index.html")
    assert case_id not in queued_case_ids(browser) and queued_case_ids(browser)
    screenshot(browser, f"{db}-next-night.png")
