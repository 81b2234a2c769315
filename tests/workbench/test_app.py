"""The investigators' workbench (workbench/): logins, roles, the queue, a case's
assignment, notes and decisions, and the access log, over a hand-made night (no Spark).

Every test runs on SQLite, and on PostgreSQL too where one can be started
(tests/conftest.py: `make test` installs it)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from fraud import dispositions
from fraud.storage import write_csv
from pages.site import build
from workbench import auth
from workbench.app import COOKIE, create_app
from workbench.store import AUDITOR, INVESTIGATOR, SUPERVISOR, database_url, engine_for, migrate

PASSWORD = "correct horse battery"
START = datetime(2026, 3, 8, 0, 30, tzinfo=UTC)  # 09:30 KST the morning after the night of DS


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    """These tests hash and check passwords hundreds of times: argon2id with the
    cheapest parameters. The app's own are tested below
    (test_the_app_hashes_with_argon2s_recommended_cost)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def night(tmp_path, report_sample):
    """A warehouse holding one published night: cases.csv, its report pages, a manifest."""
    warehouse = tmp_path / "warehouse"
    inp = report_sample.sample_input(dispositions=[], previous_ds=None, previous_cases=[])
    outputs = warehouse / "outputs" / inp.ds.isoformat()
    for relative, html in build(inp).items():
        page = outputs / "report" / relative
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(html, encoding="utf-8")
    write_csv(outputs / "cases.csv", list(inp.cases[0]), ([case[k] for k in inp.cases[0]] for case in inp.cases))
    (outputs / "run_manifest.json").write_text(json.dumps({"ds": inp.ds.isoformat()}))
    return warehouse


@pytest.fixture
def bench(night, database):
    """The app over the night, its clock, and one user of each role."""
    clock = Clock()
    url = database or database_url(night)
    migrate(url)
    from sqlalchemy.orm import Session

    with Session(engine_for(url)) as db:
        for name, role in (("kim", INVESTIGATOR), ("lee", INVESTIGATOR), ("park", SUPERVISOR), ("choi", AUDITOR)):
            auth.add_user(db, name, role, PASSWORD, START)
    app = create_app(night, url, clock=clock)
    yield app, clock, night
    app.state.engine.dispose()


def client(app) -> TestClient:
    # https: the session cookie is Secure and a client sends it only over TLS.
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def logged_in(app, name: str) -> TestClient:
    browser = client(app)
    form = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = browser.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return browser


def csrf(browser: TestClient, path: str = "/index.html") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get(path).text).group(1)


def test_pages_need_a_login_and_the_cookie_is_secure_http_only_and_expires(bench):
    app, clock, _ = bench
    anonymous = client(app)
    for path in ("/index.html", "/cases/CASE0001.html", "/rings/R-ring1.html", "/supervisor", "/access-log"):
        assert anonymous.get(path).headers["location"] == "/login"
    browser = client(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    response = browser.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert f"Max-Age={auth.SESSION_HOURS * 3600}" in cookie
    assert browser.get("/index.html").status_code == 200
    clock.now = START + timedelta(hours=auth.SESSION_HOURS, seconds=1)
    assert browser.get("/index.html").headers["location"] == "/login"  # expired on the server too


def test_a_login_without_the_forms_token_is_refused(bench):
    app, _, _ = bench
    response = client(app).post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400 and COOKIE not in response.headers.get("set-cookie", "")


def test_repeated_failed_logins_are_slowed_down_for_known_and_unknown_names(bench):
    app, clock, _ = bench
    for name in ("kim", "nobody"):
        browser = client(app)
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
        statuses = [
            browser.post("/login", data={"name": name, "password": "wrong password!", "csrf_token": token}).status_code
            for _ in range(auth.FREE_FAILURES + 1)
        ]
        assert statuses == [401] * (auth.FREE_FAILURES + 1)
        # Blocked now, even with the right password; the block doubles with each failure.
        blocked = browser.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
        assert blocked.status_code == 429 and "too many failed logins" in blocked.text
    clock.now = START + timedelta(seconds=2)
    browser = client(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    assert browser.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": token}).status_code == 303


def test_passwords_are_stored_as_argon2_hashes(bench, database, night):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from workbench.store import User

    with Session(engine_for(database or database_url(night))) as db:
        stored = db.scalars(select(User.password_hash)).all()
    assert stored and all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)


def test_the_app_hashes_with_argon2s_recommended_cost(monkeypatch):
    # RFC 9106's second recommended option, argon2-cffi's default: the tests swap in a
    # cheaper hasher (_cheap_password_hashes), the app must not.
    from argon2 import Type

    monkeypatch.undo()
    hasher = auth._hasher
    assert hasher.type is Type.ID
    assert hasher.time_cost >= 3 and hasher.memory_cost >= 64 * 1024 and hasher.parallelism >= 1


def test_the_queue_shows_the_night_masked_with_its_filters(bench, report_sample):
    app, _, _ = bench
    browser = logged_in(app, "kim")
    page = browser.get("/index.html")
    assert page.status_code == 200 and "Queue of 2026-03-07" in page.text
    assert "CASE0001" in page.text and "CASE0002" in page.text
    assert report_sample.PERSON_A not in page.text and report_sample.PERSON_A[:8] in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    only_abroad = browser.get("/index.html", params={"typology": "ABROAD_CERTIFICATION"})
    assert "CASE0002" in only_abroad.text and "/cases/CASE0001.html" not in only_abroad.text
    assert "0 of 2 cases" in browser.get("/index.html", params={"show": "mine"}).text


def test_an_investigator_takes_a_case_decides_it_and_the_log_has_the_decision_by_name(bench):
    app, clock, warehouse = bench
    kim = logged_in(app, "kim")
    token = csrf(kim, "/cases/CASE0001.html")
    assert kim.post("/cases/CASE0001/assign", data={"assignee": "kim", "csrf_token": token}).status_code == 303
    assert "1 of 2 cases" in kim.get("/index.html", params={"show": "mine"}).text
    note = {"text": "asked the payer for the days", "csrf_token": token}
    assert kim.post("/cases/CASE0001/notes", data=note).status_code == 303
    clock.now = START + timedelta(hours=1)
    response = kim.post(
        "/cases/CASE0001/decision", data={"status": "confirmed", "note": "payer confirmed 12 days", "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["location"] == "/cases/CASE0001.html?done=decision"
    assert "Decision recorded." in kim.get(response.headers["location"]).text
    [entry] = dispositions.read_log(warehouse)
    assert (entry.case_id, entry.status, entry.by) == ("CASE0001", "confirmed", "kim")
    assert entry.note == "payer confirmed 12 days"
    page = kim.get("/cases/CASE0001.html").text
    assert "assigned to kim" in page and "note: asked the payer for the days" in page and "decision: confirmed" in page
    # The report's own case page is inside, with its masking.
    assert 'id="reasons"' in page and 'id="overpayment"' in page


def test_clearing_needs_a_reason_and_another_investigators_case_is_not_yours(bench):
    app, _, warehouse = bench
    park = logged_in(app, "park")
    token = csrf(park, "/cases/CASE0002.html")
    assert park.post("/cases/CASE0002/assign", data={"assignee": "lee", "csrf_token": token}).status_code == 303
    kim = logged_in(app, "kim")
    kim_token = csrf(kim, "/cases/CASE0002.html")
    taken = kim.post("/cases/CASE0002/decision", data={"status": "confirmed", "note": "", "csrf_token": kim_token})
    assert taken.status_code == 403 and "assigned to someone else" in taken.text
    assert kim.post("/cases/CASE0002/assign", data={"assignee": "kim", "csrf_token": kim_token}).status_code == 403
    lee = logged_in(app, "lee")
    lee_token = csrf(lee, "/cases/CASE0002.html")
    bare = lee.post("/cases/CASE0002/decision", data={"status": "cleared", "note": " ", "csrf_token": lee_token})
    assert bare.status_code == 400 and "needs its reason" in bare.text
    assert dispositions.read_log(warehouse) == []


def test_a_form_without_the_sessions_token_writes_nothing(bench):
    app, _, warehouse = bench
    kim = logged_in(app, "kim")
    forged = kim.post("/cases/CASE0001/decision", data={"status": "confirmed", "csrf_token": "forged"})
    assert forged.status_code == 403 and dispositions.read_log(warehouse) == []


def test_an_auditor_reads_everything_writes_nothing_and_sees_every_view_logged(bench):
    app, _, warehouse = bench
    kim = logged_in(app, "kim")
    kim.get("/cases/CASE0001.html")
    kim.get("/rings/R-ring1.html")
    choi = logged_in(app, "choi")
    token = csrf(choi, "/cases/CASE0001.html")
    refused = choi.post("/cases/CASE0001/decision", data={"status": "confirmed", "note": "x", "csrf_token": token})
    assert refused.status_code == 403 and dispositions.read_log(warehouse) == []
    assert choi.post("/cases/CASE0001/assign", data={"assignee": "choi", "csrf_token": token}).status_code == 403
    log = choi.get("/access-log")
    assert log.status_code == 200
    rows = re.findall(r"<tr><td>[^<]+</td><td>(\w+)</td><td>(\w+)</td><td>([^<]+)</td></tr>", log.text)
    assert ("kim", "case", "CASE0001") in rows and ("kim", "ring", "R-ring1") in rows
    assert ("choi", "case", "CASE0001") in rows
    assert kim.get("/access-log").status_code == 403


def test_the_supervisor_sees_workload_ageing_and_unassigned_cases_by_amount(bench):
    app, clock, _ = bench
    park = logged_in(app, "park")
    token = csrf(park, "/cases/CASE0001.html")
    park.post("/cases/CASE0001/assign", data={"assignee": "kim", "csrf_token": token})
    clock.now = START + timedelta(days=20)
    park = logged_in(app, "park")
    view = park.get("/supervisor").text
    workload = dict(re.findall(r"<tr><td>(\w+)</td><td class=\"num\">(\d+)</td>", view))
    assert workload == {"kim": "1", "lee": "0"}
    assert re.search(r'id="ageing".*CASE0001.*kim', view, re.DOTALL)
    unassigned = view[view.index('id="unassigned"') :]
    assert "CASE0002" in unassigned and "CASE0001" not in unassigned
    assert logged_in(app, "kim").get("/supervisor").status_code == 403


def test_behind_a_single_sign_on_proxy_the_header_names_a_known_user(night, database):
    url = database or database_url(night)
    migrate(url)
    from sqlalchemy.orm import Session

    with Session(engine_for(url)) as db:
        auth.add_user(db, "kim", INVESTIGATOR, PASSWORD, START)
    app = create_app(night, url, clock=Clock(), trusted_user_header="X-Remote-User")
    try:
        browser = client(app)
        assert browser.get("/index.html", headers={"X-Remote-User": "kim"}).status_code == 200
        assert browser.get("/index.html", headers={"X-Remote-User": "stranger"}).headers["location"] == "/login"
        # Passwords play no part behind the proxy.
        refused = browser.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": "x"})
        assert refused.status_code == 403
    finally:
        app.state.engine.dispose()


def test_the_queue_says_what_changed_since_the_night_before_and_sorts(bench):
    app, _, warehouse = bench
    before = warehouse / "outputs" / "2026-03-06"
    before.mkdir(parents=True)
    header = ["case_id", "claim_id", "person_key", "workplace_id", "score", "rank", "fraud_types", "rule_hits"]
    write_csv(
        before / "cases.csv",
        header + ["reasons", "estimated_overpayment", "ring_id"],
        [["CASE0002", "CL-B", "b2" * 32, "22222222222", "0.6000", "3", "ABROAD_CERTIFICATION", "AB-01", "", "1", ""]],
    )
    (before / "run_manifest.json").write_text("{}")
    page = logged_in(app, "kim").get("/index.html", params={"sort": "change"}).text
    assert "(changes since 2026-03-06)" in page
    rows = re.findall(r'<a href="/cases/(CASE\d+)\.html">.*?<td>(?:<span class="(\w+)">)?', page, re.DOTALL)
    assert rows == [("CASE0001", "new"), ("CASE0002", "escalated")]
    by_amount = logged_in(app, "kim").get("/index.html", params={"sort": "amount"}).text
    amounts = [int(a.replace(",", "")) for a in re.findall(r'<td class="num">([\d,]+)</td>\n<td>', by_amount)]
    assert amounts == sorted(amounts, reverse=True) and len(amounts) == 2


def login_form(app, client_address=("testclient", 50000)) -> tuple[TestClient, str]:
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False, client=client_address)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    return browser, token


def test_failed_logins_block_one_address_not_the_colleague_at_another_desk(bench):
    app, _, _ = bench
    guesser, token = login_form(app, ("10.0.0.66", 5000))
    for _ in range(auth.FREE_FAILURES + 1):
        guesser.post("/login", data={"name": "kim", "password": "wrong password!", "csrf_token": token})
    assert guesser.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": token}).status_code == 429
    kim, token = login_form(app, ("10.0.0.7", 5000))
    assert kim.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": token}).status_code == 303


def test_failures_are_forgotten_after_a_quiet_spell(bench):
    app, clock, _ = bench
    browser, token = login_form(app)
    for _ in range(auth.FREE_FAILURES):
        browser.post("/login", data={"name": "kim", "password": "wrong password!", "csrf_token": token})
    clock.now = START + auth.FORGET_AFTER + timedelta(minutes=1)
    browser.post("/login", data={"name": "kim", "password": "wrong password!", "csrf_token": token})  # the first again
    assert browser.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": token}).status_code == 303


def test_parallel_guesses_cannot_slip_past_the_count(bench):
    from concurrent.futures import ThreadPoolExecutor

    app, _, _ = bench
    browser, token = login_form(app)

    def guess(_):
        return browser.post(
            "/login", data={"name": "kim", "password": "wrong password!", "csrf_token": token}
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(guess, range(12)))
    # The clock stands still: after the free failures and the one that blocks, every guess is refused unchecked.
    assert statuses == [401] * (auth.FREE_FAILURES + 1) + [429] * (12 - auth.FREE_FAILURES - 1)


def test_a_login_token_the_server_did_not_sign_is_refused(bench):
    from workbench.app import LOGIN_COOKIE

    app, _, _ = bench
    browser = client(app)
    browser.cookies.set(LOGIN_COOKIE, "attacker-chosen", domain="testserver")
    forged = browser.post("/login", data={"name": "kim", "password": PASSWORD, "csrf_token": "attacker-chosen"})
    assert forged.status_code == 400 and COOKIE not in forged.headers.get("set-cookie", "")


def test_a_cross_site_post_or_a_strange_token_is_refused_with_the_headers(bench):
    app, _, warehouse = bench
    kim = logged_in(app, "kim")
    token = csrf(kim, "/cases/CASE0001.html")
    cross = kim.post(
        "/cases/CASE0001/decision",
        data={"status": "confirmed", "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403 and "default-src 'none'" in cross.headers["content-security-policy"]
    strange = kim.post("/cases/CASE0001/decision", data={"status": "confirmed", "csrf_token": "é"})
    assert strange.status_code == 403 and dispositions.read_log(warehouse) == []


def test_notes_only_on_a_queued_case(bench):
    app, _, _ = bench
    kim = logged_in(app, "kim")
    token = csrf(kim)
    assert kim.post("/cases/NO_SUCH_CASE/notes", data={"text": "x", "csrf_token": token}).status_code == 404


def test_a_case_in_review_or_cleared_before_the_night_is_still_open(bench):
    app, clock, warehouse = bench
    kim = logged_in(app, "kim")
    token = csrf(kim, "/cases/CASE0001.html")
    kim.post("/cases/CASE0001/decision", data={"status": "in_review", "note": "asked", "csrf_token": token})
    kim.post("/cases/CASE0002/decision", data={"status": "cleared", "note": "declared", "csrf_token": token})
    undecided = kim.get("/index.html", params={"show": "undecided"}).text
    # CASE0002 was cleared after the night (08 March for the night of 07 March): it leaves the next queue.
    assert "/cases/CASE0001.html" in undecided and "/cases/CASE0002.html" not in undecided
    unassigned = logged_in(app, "park").get("/supervisor").text.split('id="unassigned"')[1]
    assert "CASE0001" in unassigned and "CASE0002" not in unassigned
    # A decision recorded on or before the night and the case still queued: it came back with new evidence.
    from workbench.app import is_open

    [entry] = [e for e in dispositions.read_log(warehouse) if e.case_id == "CASE0002"]
    assert not is_open([entry], entry.recorded_on - timedelta(days=1)) and is_open([entry], entry.recorded_on)


def test_a_case_assigned_more_than_the_ageing_days_ago_is_ageing(bench):
    app, clock, _ = bench
    park = logged_in(app, "park")
    park.post("/cases/CASE0001/assign", data={"assignee": "kim", "csrf_token": csrf(park, "/cases/CASE0001.html")})
    clock.now = START + timedelta(days=14, hours=1)
    assert "CASE0001" in logged_in(app, "park").get("/supervisor").text.split('id="ageing"')[1].split("</table>")[0]
    clock.now = START + timedelta(days=13, hours=23)
    assert "CASE0001" not in logged_in(app, "park").get("/supervisor").text.split('id="ageing"')[1].split("</table>")[0]


def with_evidence(warehouse, report_sample) -> None:
    """The night's evidence.parquet, which a notice states its facts from."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    inp = report_sample.sample_input()
    pq.write_table(pa.Table.from_pylist(inp.evidence), warehouse / "outputs" / inp.ds.isoformat() / "evidence.parquet")


def choi_log(app) -> str:
    """The access log as the auditor sees it."""
    return logged_in(app, "choi").get("/access-log").text


def test_a_confirmed_cases_notice_is_text_linked_from_its_page_and_its_view_logged(bench, report_sample):
    app, _, warehouse = bench
    with_evidence(warehouse, report_sample)
    kim = logged_in(app, "kim")
    token = csrf(kim, "/cases/CASE0001.html")
    assert 'id="notice-link"' not in kim.get("/cases/CASE0001.html").text
    kim.post("/cases/CASE0001/decision", data={"status": "confirmed", "note": "payer confirmed", "csrf_token": token})
    assert 'href="/cases/CASE0001/notice"' in kim.get("/cases/CASE0001.html").text
    response = logged_in(app, "choi").get("/cases/CASE0001/notice")  # an auditor reads it too
    assert response.status_code == 200 and response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "사건번호: CASE0001" in response.text and "통지일: 2026-03-08" in response.text
    assert "기록으로 입증된 금액: 3,360,000원" in response.text and "의견제출 기한: 2026-03-22" in response.text
    assert report_sample.PERSON_A[:8] not in response.text
    rows = re.findall(r"<tr><td>[^<]+</td><td>(\w+)</td><td>(\w+)</td><td>([^<]+)</td></tr>", choi_log(app))
    assert ("choi", "notice", "CASE0001") in rows


@pytest.mark.parametrize("status", [None, "in_review", "cleared"])
def test_a_notice_for_a_case_not_confirmed_is_refused_in_one_line_and_shows_nothing(bench, report_sample, status):
    app, _, warehouse = bench
    with_evidence(warehouse, report_sample)
    kim = logged_in(app, "kim")
    if status:
        data = {"status": status, "note": "declared", "csrf_token": csrf(kim, "/cases/CASE0001.html")}
        assert kim.post("/cases/CASE0001/decision", data=data).status_code == 303
    refused = kim.get("/cases/CASE0001/notice")
    assert refused.status_code == 409 and refused.headers["content-type"].startswith("text/plain")
    assert len(refused.text.splitlines()) == 1 and "is not confirmed" in refused.text
    assert 'id="notice-link"' not in kim.get("/cases/CASE0001.html").text
    assert "notice" not in re.findall(r"<td>(\w+)</td><td>CASE0001</td>", choi_log(app))


def test_a_notice_needs_a_login_and_a_queued_case(bench):
    app, _, _ = bench
    assert client(app).get("/cases/CASE0001/notice").headers["location"] == "/login"
    missing = logged_in(app, "kim").get("/cases/NO_SUCH_CASE/notice")
    assert missing.status_code == 404 and missing.text == "no queue dated on or before 2026-03-08 has NO_SUCH_CASE"


def test_a_control_claim_is_listed_apart_shown_without_reasons_and_decided_as_control(bench):
    app, clock, warehouse = bench
    outputs = warehouse / "outputs" / "2026-03-07"
    person = "ab" * 32
    columns = ["draw_order", "case_id", "claim_id", "person_key", "workplace_id", "filed_on", "draw_key"]
    write_csv(
        outputs / "control_sample.csv",
        columns,
        [["1", "Cctl01", "CL-77", person, "33333333333", "2026-01-02", "f" * 64]],
    )
    kim = logged_in(app, "kim")
    queue = kim.get("/index.html").text
    assert 'id="control"' in queue and "Cctl01" in queue and "abababab…" in queue and person not in queue
    assert "Cctl01" not in kim.get("/index.html", params={"typology": "UNDECLARED_WORK"}).text
    page = kim.get("/cases/Cctl01.html").text
    assert "Control claim Cctl01" in page and "no rule or model flagged it" in page and person not in page
    token = csrf(kim, "/cases/Cctl01.html")
    decided = kim.post(
        "/cases/Cctl01/decision", data={"status": "cleared", "note": "records agree", "csrf_token": token}
    )
    assert decided.status_code == 303
    [entry] = dispositions.read_log(warehouse)
    assert (entry.case_id, entry.claim_id, entry.sample, entry.status) == ("Cctl01", "CL-77", "control", "cleared")
    assert '<span class="status-cleared">cleared</span>' in kim.get("/index.html").text
    # Confirmed, a control claim still has no notice to draft: no rule's records to cite.
    clock.now += timedelta(minutes=5)
    token = csrf(kim, "/cases/Cctl01.html")
    assert kim.post("/cases/Cctl01/decision", data={"status": "confirmed", "csrf_token": token}).status_code == 303
    page = kim.get("/cases/Cctl01.html").text
    assert '<span class="status-confirmed">confirmed</span>' in page and "notice-link" not in page
