"""The investigators' workbench: a web application over the warehouse to work the
queue (`fraudctl serve`). Pages are rendered on the server; nothing is loaded from the
network and the report's Content-Security-Policy is sent with every page.

Who may do what (workbench/store.py:ROLES):
- investigator: works the cases assigned to them and the unassigned pool (takes a
  case, records decisions and notes); reads every case, ring and workplace page;
- supervisor: as an investigator on any case, and assigns and reassigns; the
  supervisor's view (workload, ageing, unassigned cases by amount);
- auditor: reads everything, the access log included, and writes nothing.

Every view of the queue, a case, a ring, a workplace, a notice or the access log is logged.
Decisions go into the pipeline's disposition log with `by` the logged-in user.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from fraud import case_file, dispositions
from fraud.config import Settings
from fraud.text import one_line
from pages.mask import mask_keys, short_key
from pages.notice import render as render_notice
from pages.templates import CONTENT_SECURITY_POLICY
from workbench import auth
from workbench.night import decisions, latest_queue, queued_case, report_page
from workbench.screens import environment
from workbench.store import (
    AUDITOR,
    INVESTIGATOR,
    SUPERVISOR,
    Access,
    Assignment,
    Note,
    User,
    database_url,
    engine_for,
    migrate,
)

# __Host-: a cookie only this host can set, over TLS (or 127.0.0.1), for every path.
log = logging.getLogger(__name__)

COOKIE = "__Host-fraud_session"
LOGIN_COOKIE = "__Host-fraud_login"
ACCESS_LOG_ROWS = 500
MAX_NOTE_CHARS = 4000
SHOWS = (("all", "every case"), ("mine", "my cases"), ("unassigned", "unassigned"), ("undecided", "undecided"))
SORTS = (("rank", "by rank"), ("amount", "by proven overpayment"), ("change", "new and escalated first"))
# What the case page says after a form was handled (a code in the URL, never its text).
DONE = {"assigned": "Assignment saved.", "note": "Note added.", "decision": "Decision recorded."}
TYPOLOGIES = ("UNDECLARED_WORK", "ABROAD_CERTIFICATION", "FALSE_SEPARATION", "GHOST_EMPLOYMENT", "OTHER")


def is_open(history: list[dispositions.Disposition], ds) -> bool:
    """Whether a case of the night `ds`'s queue still waits for a decision: never
    decided; in review; or cleared on or before the night, so that it is back in the
    queue because its evidence grew (a case cleared after the night leaves the next
    one, and a confirmed case waits only for its finding)."""
    if not history:
        return True
    latest = history[-1]
    return latest.status == dispositions.IN_REVIEW or (
        latest.status == dispositions.CLEARED and ds is not None and latest.recorded_on <= ds
    )


def create_app(
    warehouse: Path,
    db_url: str | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    ageing_days: int = 14,
    trusted_user_header: str | None = None,
) -> FastAPI:
    """The workbench over `warehouse`, its state in `db_url` (default: FRAUD_WORKBENCH_DB,
    else SQLite in the warehouse), migrated to the latest schema first.

    `trusted_user_header`: behind a site's single sign-on proxy, the header naming the
    user the proxy authenticated (the user must exist here; roles stay the workbench's)."""
    warehouse = Path(warehouse)
    url = database_url(warehouse, db_url)
    migrate(url)
    engine = engine_for(url)
    new_db = sessionmaker(engine, expire_on_commit=False)
    now = clock or (lambda: datetime.now(UTC))
    templates = environment()
    app = FastAPI(title="fraud workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine

    login_secret = secrets.token_bytes(32)  # signs login forms; a restart asks for a fresh form

    @app.middleware("http")
    async def headers(request: Request, call_next):
        if request.method == "POST" and request.headers.get("sec-fetch-site", "same-origin") not in (
            "same-origin",
            "none",
        ):
            response = Response("a form from another site is refused", status_code=403, media_type="text/plain")
        else:
            try:
                response = await call_next(request)
            except Exception:  # noqa: BLE001 - answered as a 500 with the same headers, and logged
                log.exception("workbench request %s %s failed", request.method, request.url.path)
                response = Response("the workbench failed on this request", status_code=500, media_type="text/plain")
        response.headers["Content-Security-Policy"] = (
            CONTENT_SECURITY_POLICY + "; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    def page(name: str, status: int = 200, **values) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**values), status_code=status)

    def login_token() -> str:
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{hmac.new(login_secret, nonce.encode(), hashlib.sha256).hexdigest()}"

    def login_token_ok(token: str) -> bool:
        nonce, _, signature = token.partition(".")
        expected = hmac.new(login_secret, nonce.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode())

    def login_page(request: Request, message: str = "", status: int = 200) -> HTMLResponse:
        token = request.cookies.get(LOGIN_COOKIE, "")
        token = token if login_token_ok(token) else login_token()
        response = page("login", status, user=None, login_csrf=token, message=message)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, secure=True, samesite="strict", max_age=3600)
        return response

    def who(request: Request, db: DbSession):
        """(session, user) of the request, or None: the cookie's session, or behind a
        trusted proxy the session of the user it names."""
        found = auth.session_of(db, request.cookies.get(COOKIE), now())
        if trusted_user_header:
            name = request.headers.get(trusted_user_header, "")
            if found is not None and found[1].name == name:
                return found
            user = db.get(User, name) if name else None
            if user is None:
                return None
            token, session = auth.trusted_session(db, user.name, now())
            request.state.new_token = token
            return session, user
        return found

    def finish(request: Request, response: Response) -> Response:
        token = getattr(request.state, "new_token", None)
        if token:
            set_session_cookie(response, token)
        return response

    def set_session_cookie(response: Response, token: str) -> None:
        response.set_cookie(
            COOKIE, token, httponly=True, secure=True, samesite="strict", max_age=auth.SESSION_HOURS * 3600
        )

    def log_access(db: DbSession, user: User, kind: str, target: str) -> None:
        db.add(Access(at=now(), user_name=user.name, kind=kind, target=target[:100]))
        db.commit()

    def assignments(db: DbSession) -> dict[str, Assignment]:
        latest: dict[str, Assignment] = {}
        for row in db.scalars(select(Assignment).order_by(Assignment.id)):
            latest[row.case_id] = row
        return latest

    def assignee_of(db: DbSession, case_id: str) -> str | None:
        """Who works the case now (its latest assignment), or None: the pool."""
        latest = db.scalars(
            select(Assignment).where(Assignment.case_id == case_id).order_by(Assignment.id.desc()).limit(1)
        ).first()
        return latest.assignee if latest else None

    def frame(user: User, session, ds=None) -> dict:
        """What every page's frame shows: the user, the forms' token, the night."""
        return {"user": user, "csrf": session.csrf_token, "ds": ds}

    def refused(user: User, session, status: int, title: str, detail: str) -> HTMLResponse:
        return page("error", status, title=title, detail=detail, **frame(user, session))

    @app.get("/login")
    def login_form(request: Request):
        return login_page(request)

    @app.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form(""), csrf_token: str = Form("")):
        if trusted_user_header:
            return PlainTextResponse("logins go through the site's single sign-on", status_code=403)
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not (login_token_ok(expected) and hmac.compare_digest(expected.encode(), csrf_token.encode())):
            return login_page(request, "the login form expired: try again", 400)
        with new_db() as db:
            try:
                token, _ = auth.log_in(db, name, password, now(), request.client.host if request.client else "")
            except auth.AuthError as error:
                return login_page(request, str(error), 429 if isinstance(error, auth.Throttled) else 401)
        response = RedirectResponse("/index.html", status_code=303)
        set_session_cookie(response, token)
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    def logout(request: Request, csrf_token: str = Form("")):
        with new_db() as db:
            found = auth.session_of(db, request.cookies.get(COOKIE), now())
            if found is not None and auth.csrf_ok(found[0], csrf_token):
                auth.log_out(db, request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/")
    def root():
        return RedirectResponse("/index.html", status_code=303)

    @app.get("/index.html")
    def queue(request: Request, show: str = "all", typology: str = "", sort: str = "rank"):
        with new_db() as db:
            found = who(request, db)
            if found is None:
                return RedirectResponse("/login", status_code=303)
            session, user = found
            night = latest_queue(warehouse)
            assigned = assignments(db)
            decided = decisions(warehouse)

            def with_status(listed: list[dict]) -> list[dict]:
                rows = []
                for item in listed:
                    row = dict(item)
                    row["assignee"] = assigned[item["case_id"]].assignee if item["case_id"] in assigned else None
                    history = decided.get(item["case_id"], [])
                    row["decision"] = history[-1].status if history else ""
                    row["open"] = is_open(history, night.ds)
                    rows.append(row)
                if show == "mine":
                    return [r for r in rows if r["assignee"] == user.name]
                if show == "unassigned":
                    return [r for r in rows if not r["assignee"]]
                if show == "undecided":
                    return [r for r in rows if r["open"]]
                return rows

            total = len(night.cases)
            cases = with_status(night.cases)
            control = [] if typology else with_status(night.control)  # a control claim has no typology
            if typology:
                cases = [c for c in cases if typology in c["fraud_types"].split(";")]
            if sort == "amount":
                cases.sort(key=lambda c: (-c["estimated_overpayment"], c["rank"]))
            elif sort == "change":
                cases.sort(key=lambda c: ({"new": 0, "escalated": 1}.get(c["change"], 2), c["rank"]))
            log_access(db, user, "queue", night.ds.isoformat() if night.ds else "-")
            return finish(
                request,
                page(
                    "queue",
                    cases=cases,
                    total=total,
                    control=control,
                    previous_ds=night.previous_ds,
                    show=show,
                    shows=SHOWS,
                    typology=typology,
                    typologies=TYPOLOGIES,
                    sort=sort,
                    sorts=SORTS,
                    **frame(user, session, night.ds),
                ),
            )

    def queue_row(ds, row: dict) -> str:
        """A case's cases.csv row, keys masked: its page when the report has none."""
        shown = {key: mask_keys(value) for key, value in row.items() if key != "person_key"}
        shown["person_key"] = short_key(row.get("person_key"))
        return templates.get_template("queue_row").render(case=row, ds=ds, rows=sorted(shown.items()))

    def night_page(kind: str, name: str):
        """The report page `kind/name` of the latest published night that has it."""
        for ds in reversed(dispositions.published_nights(warehouse)):
            found = report_page(warehouse, ds, kind, name)
            if found is not None:
                return ds, found
        return None, None

    def may_work(user: User, assignee: str | None) -> bool:
        if user.role == SUPERVISOR:
            return True
        return user.role == INVESTIGATOR and assignee in (None, user.name)

    @app.get("/cases/{case_id}.html")
    def case(request: Request, case_id: str, done: str = ""):
        with new_db() as db:
            found = who(request, db)
            if found is None:
                return RedirectResponse("/login", status_code=303)
            session, user = found
            ds, report = night_page("cases", case_id)
            if report is None:
                queued = queued_case(warehouse, case_id)
                if queued is None:
                    return finish(
                        request, refused(user, session, 404, "No such case", f"no night's queue has {case_id}")
                    )
                ds, row = queued
                report = (queue_row(ds, row), "")
            log_access(db, user, "case", case_id)
            assignee = assignee_of(db, case_id)
            history = [
                {"at": row.assigned_at, "who": row.assigned_by, "what": f"assigned to {row.assignee or 'the pool'}"}
                for row in db.scalars(select(Assignment).where(Assignment.case_id == case_id))
            ]
            history += [
                {"at": row.created_at, "who": row.author, "what": f"note: {row.text}"}
                for row in db.scalars(select(Note).where(Note.case_id == case_id))
            ]
            entries = decisions(warehouse).get(case_id, [])
            history += [
                {
                    "at": datetime.fromisoformat(entry.recorded_at).astimezone(UTC),
                    "who": entry.by,
                    "what": f"decision: {entry.status}" + (f" ({entry.note})" if entry.note else ""),
                }
                for entry in entries
            ]
            history.sort(key=lambda row: row["at"])
            for row in history:
                row["at"] = row["at"].strftime("%Y-%m-%d %H:%M UTC")
            investigators = [
                u.name
                for u in db.scalars(select(User).where(User.role.in_((INVESTIGATOR, SUPERVISOR))).order_by(User.name))
            ]
            return finish(
                request,
                page(
                    "case",
                    case_id=case_id,
                    assignee=assignee,
                    latest=entries[-1] if entries else None,
                    can_take=user.role == INVESTIGATOR and assignee is None,
                    can_assign=user.role == SUPERVISOR,
                    can_decide=may_work(user, assignee),
                    investigators=investigators,
                    history=history,
                    report_body=Markup(report[0]),
                    report_script=Markup(report[1]),
                    message=DONE.get(done, ""),
                    **frame(user, session, ds),
                ),
            )

    @app.get("/cases/{case_id}/notice")
    def notice(request: Request, case_id: str):
        """The notice to the claimant (pages/notice.py) dated today in Seoul, as text; only
        for a case whose latest decision is `confirmed` (409 otherwise). Any user may read
        it, as they read the case; each view is logged."""
        with new_db() as db:
            found = who(request, db)
            if found is None:
                return RedirectResponse("/login", status_code=303)
            _, user = found
            on = now().astimezone(dispositions.KST).date()
            try:
                facts = case_file.read_confirmed(warehouse, case_id, on)
            except case_file.NoSuchCase:
                missing = one_line(f"no queue dated on or before {on} has {case_id}")
                return finish(request, PlainTextResponse(missing, status_code=404))
            except case_file.NotConfirmed as error:
                return finish(request, PlainTextResponse(one_line(str(error)), status_code=409))
            log_access(db, user, "notice", case_id)
            text = render_notice(facts, on, Settings.from_env().notice_response_days)
            return finish(request, PlainTextResponse(text, media_type="text/plain; charset=utf-8"))

    def writer(request: Request, db: DbSession, csrf_token: str, case_id: str, works_it: bool = True):
        """(session, user) allowed to write on a queued case, or the response refusing it.
        `works_it`: the user must also be one who may work the case (`may_work`)."""
        found = who(request, db)
        if found is None:
            return None, RedirectResponse("/login", status_code=303)
        session, user = found
        if not auth.csrf_ok(session, csrf_token):
            return None, refused(user, session, 403, "Refused", "the form's token does not match your session")
        if user.role == AUDITOR:
            return None, refused(user, session, 403, "Refused", "an auditor reads and writes nothing")
        if queued_case(warehouse, case_id) is None:
            return None, refused(user, session, 404, "No such case", f"no night's queue has {case_id}")
        if works_it and not may_work(user, assignee_of(db, case_id)):
            return None, refused(user, session, 403, "Refused", "the case is assigned to someone else")
        return found, None

    def back(case_id: str, done: str) -> RedirectResponse:
        return RedirectResponse(f"/cases/{quote(case_id)}.html?done={done}", status_code=303)

    @app.post("/cases/{case_id}/assign")
    def assign(request: Request, case_id: str, assignee: str = Form(""), csrf_token: str = Form("")):
        with new_db() as db:
            found, refusal = writer(request, db, csrf_token, case_id, works_it=False)
            if refusal is not None:
                return finish(request, refusal)
            session, user = found
            taking = user.role == INVESTIGATOR and assignee == user.name and assignee_of(db, case_id) is None
            if user.role != SUPERVISOR and not taking:
                return finish(
                    request,
                    refused(
                        user,
                        session,
                        403,
                        "Refused",
                        "only a supervisor assigns; an investigator takes an unassigned case",
                    ),
                )
            target = db.get(User, assignee) if assignee else None
            if assignee and (target is None or target.role == AUDITOR):
                return finish(request, refused(user, session, 400, "Refused", f"{assignee} is no investigator"))
            db.add(Assignment(case_id=case_id, assignee=assignee or None, assigned_by=user.name, assigned_at=now()))
            db.commit()
            return finish(request, back(case_id, "assigned"))

    @app.post("/cases/{case_id}/notes")
    def note(request: Request, case_id: str, text: str = Form(""), csrf_token: str = Form("")):
        with new_db() as db:
            found, refusal = writer(request, db, csrf_token, case_id)
            if refusal is not None:
                return finish(request, refusal)
            session, user = found
            text = text.strip()
            if not text or len(text) > MAX_NOTE_CHARS:
                return finish(
                    request, refused(user, session, 400, "Refused", f"a note has 1 to {MAX_NOTE_CHARS} characters")
                )
            db.add(Note(case_id=case_id, author=user.name, text=text, created_at=now()))
            db.commit()
            return finish(request, back(case_id, "note"))

    @app.post("/cases/{case_id}/decision")
    def decide(
        request: Request, case_id: str, status: str = Form(""), note: str = Form(""), csrf_token: str = Form("")
    ):
        with new_db() as db:
            found, refusal = writer(request, db, csrf_token, case_id)
            if refusal is not None:
                return finish(request, refusal)
            session, user = found
            if status == dispositions.CLEARED and not note.strip():
                return finish(request, refused(user, session, 400, "Refused", "clearing a case needs its reason"))
            try:
                dispositions.record(warehouse, case_id, status, note.strip(), user.name, now())
            except dispositions.DispositionError as error:
                return finish(request, refused(user, session, 400, "Refused", str(error)))
            return finish(request, back(case_id, "decision"))

    def report_page_view(request: Request, kind: str, name: str, title: str, key: str):
        with new_db() as db:
            found = who(request, db)
            if found is None:
                return RedirectResponse("/login", status_code=303)
            session, user = found
            ds, report = night_page(kind, name)
            if report is None:
                return finish(
                    request, refused(user, session, 404, f"No such {title.lower()}", f"no night's report has {name}")
                )
            log_access(db, user, kind.rstrip("s"), name)
            decided = decisions(warehouse)
            statuses = [
                (c["case_id"], decided[c["case_id"]][-1].status if c["case_id"] in decided else "")
                for c in latest_queue(warehouse).cases
                if c[key] == name
            ]
            return finish(
                request,
                page(
                    "report_page",
                    title=f"{title} {name}",
                    statuses=statuses,
                    report_body=Markup(report[0]),
                    report_script=Markup(report[1]),
                    **frame(user, session, ds),
                ),
            )

    @app.get("/rings/{ring_id}.html")
    def ring(request: Request, ring_id: str):
        return report_page_view(request, "rings", ring_id, "Ring", "ring_id")

    @app.get("/workplaces/{workplace_id}.html")
    def workplace(request: Request, workplace_id: str):
        return report_page_view(request, "workplaces", workplace_id, "Workplace", "workplace_id")

    @app.get("/supervisor")
    def supervisor(request: Request):
        with new_db() as db:
            found = who(request, db)
            if found is None:
                return RedirectResponse("/login", status_code=303)
            session, user = found
            if user.role not in (SUPERVISOR, AUDITOR):
                return finish(
                    request, refused(user, session, 403, "Refused", "the supervisor's view is for supervisors")
                )
            night = latest_queue(warehouse)
            assigned = assignments(db)
            decided = decisions(warehouse)
            open_cases = [c for c in night.cases if is_open(decided.get(c["case_id"], []), night.ds)]
            load, amount, ageing_count = Counter(), Counter(), Counter()
            ageing = []
            for case in open_cases:
                row = assigned.get(case["case_id"])
                if row is None or row.assignee is None:
                    continue
                load[row.assignee] += 1
                amount[row.assignee] += case["estimated_overpayment"]
                days = (now() - row.assigned_at).days
                if now() - row.assigned_at > timedelta(days=ageing_days):
                    ageing_count[row.assignee] += 1
                    ageing.append(
                        {
                            "case_id": case["case_id"],
                            "assignee": row.assignee,
                            "since": row.assigned_at.date(),
                            "days": days,
                        }
                    )
            names = sorted(set(load) | {u.name for u in db.scalars(select(User).where(User.role == INVESTIGATOR))})
            workload = [{"name": n, "open": load[n], "amount": amount[n], "ageing": ageing_count[n]} for n in names]
            unassigned = sorted(
                (c for c in open_cases if c["case_id"] not in assigned or assigned[c["case_id"]].assignee is None),
                key=lambda c: (-c["estimated_overpayment"], c["rank"]),
            )
            return finish(
                request,
                page(
                    "supervisor",
                    workload=workload,
                    ageing=sorted(ageing, key=lambda r: -r["days"]),
                    unassigned=unassigned[:100],
                    ageing_days=ageing_days,
                    **frame(user, session, night.ds),
                ),
            )

    @app.get("/access-log")
    def access_log(request: Request):
        with new_db() as db:
            found = who(request, db)
            if found is None:
                return RedirectResponse("/login", status_code=303)
            session, user = found
            if user.role != AUDITOR:
                return finish(request, refused(user, session, 403, "Refused", "the access log is for auditors"))
            log_access(db, user, "access_log", "-")
            rows = [
                {
                    "at": row.at.strftime("%Y-%m-%d %H:%M:%S"),
                    "user_name": row.user_name,
                    "kind": row.kind,
                    "target": row.target,
                }
                for row in db.scalars(select(Access).order_by(Access.id.desc()).limit(ACCESS_LOG_ROWS))
            ]
            return finish(request, page("access_log", rows=rows, **frame(user, session)))

    return app
