"""The workbench's pages as Jinja2 templates, autoescaped, with the report's style
(pages/templates.py:STYLE). A case, ring or workplace page shows the report's own page
for the night (rendered and masked by the report stage) inside the workbench's frame."""

from jinja2 import DictLoader, Environment, select_autoescape

from pages.templates import STYLE

FRAME = (
    """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>{% block title %}{% endblock %} · fraud workbench</title>
"""
    + STYLE
    + """<style>
form.inline{display:inline}textarea{width:40em;height:5em}.flash{background:#fff6d6;padding:6px 10px;border:1px solid #e6cf7a}
.panel{background:#fff;border:1px solid #ddd;padding:8px 14px;margin:10px 0}
</style>
</head>
<body>
<header>{% if user %}<a href="/index.html">Queue{% if ds %} {{ ds }}{% endif %}</a>
{% if user.role == "supervisor" %}<a href="/supervisor">Supervisor</a>{% endif %}
{% if user.role == "auditor" %}<a href="/access-log">Access log</a>{% endif %}
<span>{{ user.name }} ({{ user.role }})</span>
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf_token" value="{{ csrf }}"><button>Log out</button></form>{% endif %}</header>
<main>
{% if message %}<p class="flash" id="message">{{ message }}</p>{% endif %}
{% block body %}{% endblock %}
</main>
{% block script %}{% endblock %}
</body>
</html>
"""
)

LOGIN = """{% extends "frame" %}{% block title %}Log in{% endblock %}
{% block body %}<h1>Log in</h1>
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{{ login_csrf }}">
<p><label>Name <input name="name" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button>Log in</button></p>
</form>{% endblock %}
"""

QUEUE = """{% extends "frame" %}{% block title %}Queue{% endblock %}
{% block body %}
{% if not ds %}<h1>No published night yet</h1><p>The queue appears after the first nightly run.</p>{% else %}
<h1>Queue of {{ ds }}{% if previous_ds %} <span class="muted">(changes since {{ previous_ds }})</span>{% endif %}</h1>
<form class="controls" method="get" action="/index.html">
<select name="show">{% for value, label in shows %}<option value="{{ value }}"{% if value == show %} selected{% endif %}>{{ label }}</option>{% endfor %}</select>
<select name="typology"><option value="">every typology</option>{% for t in typologies %}<option{% if t == typology %} selected{% endif %}>{{ t }}</option>{% endfor %}</select>
<select name="sort">{% for value, label in sorts %}<option value="{{ value }}"{% if value == sort %} selected{% endif %}>{{ label }}</option>{% endfor %}</select>
<button>Show</button></form>
<p id="count">{{ cases|length }} of {{ total }} cases.</p>
<table id="queue"><thead><tr><th class="num">rank</th><th>case</th><th>change</th><th>typologies</th><th>person</th><th class="num">proven overpayment (KRW)</th><th>ring</th><th>assigned to</th><th>decision</th></tr></thead><tbody>
{% for c in cases %}<tr><td class="num">{{ c.rank }}</td><td><a href="/cases/{{ c.case_id }}.html">{{ c.case_id }}</a></td>
<td>{% if c.change %}<span class="{{ c.change }}">{{ c.change }}</span>{% endif %}</td>
<td>{% for t in c.fraud_types.split(";") if t %}<span class="tag {{ t }}">{{ t }}</span>{% endfor %}</td>
<td class="key">{{ c.person_short }}</td><td class="num">{{ "{:,}".format(c.estimated_overpayment) }}</td>
<td>{% if c.ring_id %}<a href="/rings/{{ c.ring_id }}.html">{{ c.ring_id }}</a>{% endif %}</td>
<td>{{ c.assignee or "" }}</td><td>{% if c.decision %}<span class="status-{{ c.decision }}">{{ c.decision }}</span>{% endif %}</td></tr>
{% endfor %}</tbody></table>
<h2>Control sample</h2>
<p id="control-count">{{ control|length }} control claims: drawn at random from the undecided claims the queue left out. They are
no cases (no rank, no reasons); decide them like cases, since a decision on one is an unbiased label for how much the queue misses.</p>
{% if control %}<table id="control"><thead><tr><th class="num">drawn</th><th>claim</th><th>person</th><th>workplace</th><th>filed</th><th>assigned to</th><th>decision</th></tr></thead><tbody>
{% for c in control %}<tr><td class="num">{{ c.draw_order }}</td><td><a href="/cases/{{ c.case_id }}.html">{{ c.case_id }}</a> <span class="tag">control</span></td>
<td class="key">{{ c.person_short }}</td><td>{{ c.workplace_id }}</td><td>{{ c.filed_on }}</td>
<td>{{ c.assignee or "" }}</td><td>{% if c.decision %}<span class="status-{{ c.decision }}">{{ c.decision }}</span>{% endif %}</td></tr>
{% endfor %}</tbody></table>{% endif %}{% endif %}
{% endblock %}
"""

CASE = """{% extends "frame" %}{% block title %}Case {{ case_id }}{% endblock %}
{% block body %}
<div class="panel" id="work">
<p id="assignment">Assigned to: <b>{{ assignee or "nobody (the pool)" }}</b>{% if latest %} · latest decision: <span class="status-{{ latest.status }}">{{ latest.status }}</span> by {{ latest.by }} at {{ latest.recorded_at }}{% endif %}</p>
{% if latest and latest.status == "confirmed" and latest.sample != "control" %}<p id="notice-link"><a href="/cases/{{ case_id }}/notice">The notice to the claimant (사전통지 및 의견제출 안내, text)</a></p>{% endif %}
{% if can_take %}<form class="inline" method="post" action="/cases/{{ case_id }}/assign"><input type="hidden" name="csrf_token" value="{{ csrf }}"><input type="hidden" name="assignee" value="{{ user.name }}"><button>Take this case</button></form>{% endif %}
{% if can_assign %}<form class="inline" method="post" action="/cases/{{ case_id }}/assign"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<select name="assignee"><option value="">nobody (the pool)</option>{% for name in investigators %}<option{% if name == assignee %} selected{% endif %}>{{ name }}</option>{% endfor %}</select><button>Assign</button></form>{% endif %}
{% if can_decide %}<h3>Decision</h3>
<form method="post" action="/cases/{{ case_id }}/decision"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<label><input type="radio" name="status" value="confirmed" required> confirmed</label>
<label><input type="radio" name="status" value="cleared"> cleared</label>
<label><input type="radio" name="status" value="in_review"> in review</label><br>
<textarea name="note" maxlength="2000" placeholder="the reason (required to clear)"></textarea><br><button>Record the decision</button></form>
<h3>Note</h3>
<form method="post" action="/cases/{{ case_id }}/notes"><input type="hidden" name="csrf_token" value="{{ csrf }}">
<textarea name="text" maxlength="4000" required></textarea><br><button>Add the note</button></form>{% endif %}
<h3>History</h3>
<table id="work-history"><thead><tr><th>when</th><th>who</th><th>what</th></tr></thead><tbody>
{% for row in history %}<tr><td>{{ row.at }}</td><td>{{ row.who }}</td><td>{{ row.what }}</td></tr>{% else %}<tr><td colspan="3" class="muted">nothing yet</td></tr>{% endfor %}
</tbody></table>
</div>
{{ report_body }}
{% endblock %}
{% block script %}{{ report_script }}{% endblock %}
"""

REPORT_PAGE = """{% extends "frame" %}{% block title %}{{ title }}{% endblock %}
{% block body %}{% if statuses %}<div class="panel"><p id="case-statuses">Cases here: {% for case_id, status in statuses %}<a href="/cases/{{ case_id }}.html">{{ case_id }}</a> ({{ status or "undecided" }}){% if not loop.last %}, {% endif %}{% endfor %}</p></div>{% endif %}
{{ report_body }}{% endblock %}
{% block script %}{{ report_script }}{% endblock %}
"""

SUPERVISOR = """{% extends "frame" %}{% block title %}Supervisor{% endblock %}
{% block body %}<h1>Workload on {{ ds }}</h1>
<table id="workload"><thead><tr><th>investigator</th><th class="num">open cases</th><th class="num">proven overpayment (KRW)</th><th class="num">ageing past {{ ageing_days }} days</th></tr></thead><tbody>
{% for row in workload %}<tr><td>{{ row.name }}</td><td class="num">{{ row.open }}</td><td class="num">{{ "{:,}".format(row.amount) }}</td><td class="num">{{ row.ageing }}</td></tr>{% endfor %}
</tbody></table>
<h2>Ageing: assigned more than {{ ageing_days }} days ago and undecided</h2>
<table id="ageing"><thead><tr><th>case</th><th>assigned to</th><th>since</th><th class="num">days</th></tr></thead><tbody>
{% for row in ageing %}<tr><td><a href="/cases/{{ row.case_id }}.html">{{ row.case_id }}</a></td><td>{{ row.assignee }}</td><td>{{ row.since }}</td><td class="num">{{ row.days }}</td></tr>{% else %}<tr><td colspan="4" class="muted">none</td></tr>{% endfor %}
</tbody></table>
<h2>Unassigned, by proven overpayment</h2>
<table id="unassigned"><thead><tr><th>case</th><th class="num">rank</th><th class="num">proven overpayment (KRW)</th><th>typologies</th></tr></thead><tbody>
{% for c in unassigned %}<tr><td><a href="/cases/{{ c.case_id }}.html">{{ c.case_id }}</a></td><td class="num">{{ c.rank }}</td><td class="num">{{ "{:,}".format(c.estimated_overpayment) }}</td><td>{{ c.fraud_types }}</td></tr>{% else %}<tr><td colspan="4" class="muted">none</td></tr>{% endfor %}
</tbody></table>{% endblock %}
"""

ACCESS_LOG = """{% extends "frame" %}{% block title %}Access log{% endblock %}
{% block body %}<h1>Access log</h1><p>The latest {{ rows|length }} views of cases, rings, workplaces, the queue and this log.</p>
<table id="access-log"><thead><tr><th>when (UTC)</th><th>who</th><th>what</th><th>which</th></tr></thead><tbody>
{% for row in rows %}<tr><td>{{ row.at }}</td><td>{{ row.user_name }}</td><td>{{ row.kind }}</td><td>{{ row.target }}</td></tr>{% endfor %}
</tbody></table>{% endblock %}
"""

QUEUE_ROW = """<div id="queue-row">{% if case.list == "control" %}<h1>Control claim {{ case.case_id }} · drawn {{ case.draw_order }}</h1>
<p class="flash" id="control-claim">Drawn at random on {{ ds }} from the undecided claims the queue left out: no rule or model flagged it, and it carries no reasons.
Look at its records as for a case and decide it; the decision is an unbiased label.</p>{% else %}<h1>Case {{ case.case_id }} · rank {{ case.rank }}</h1>
<p class="flash" id="no-report">The report's page for this case was not built for {{ ds }} (the report stage did not run, or failed): the queue's row is shown.</p>{% endif %}
<table><tbody>{% for key, value in rows %}<tr><th>{{ key }}</th><td>{{ value }}</td></tr>{% endfor %}</tbody></table></div>
"""

ERROR = """{% extends "frame" %}{% block title %}{{ title }}{% endblock %}
{% block body %}<h1>{{ title }}</h1><p id="error">{{ detail }}</p>{% endblock %}
"""


def environment() -> Environment:
    env = Environment(
        loader=DictLoader(
            {
                "frame": FRAME,
                "login": LOGIN,
                "queue": QUEUE,
                "case": CASE,
                "report_page": REPORT_PAGE,
                "supervisor": SUPERVISOR,
                "access_log": ACCESS_LOG,
                "error": ERROR,
                "queue_row": QUEUE_ROW,
            }
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    return env
