"""The report's pages as Jinja2 templates (autoescaped: every text from the feeds is
shown as text). Inline CSS and JS only; the Content-Security-Policy forbids loading
anything, so a page opens the same on an air-gapped desk."""

# Nothing is loaded from anywhere: the pages' CSS and scripts are inline, pictures are
# inline SVG or data: URIs. The workbench sends the same policy as a header.
CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """<style>
body{font-family:"Noto Sans KR","Malgun Gothic",system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f3a5f;color:#fff;padding:10px 20px}header a{color:#fff;margin-right:16px}
main{padding:16px 24px;max-width:1400px}
h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0;background:#fff;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f7}table.sortable th{cursor:pointer}td.num,th.num{text-align:right}
.tag{display:inline-block;padding:1px 6px;border-radius:8px;background:#e8e8e8;margin:1px;font-size:12px}
.UNDECLARED_WORK{background:#fde0c5}.ABROAD_CERTIFICATION{background:#e6d3f0}
.FALSE_SEPARATION{background:#cfe3f7}.GHOST_EMPLOYMENT{background:#f7cfcf}.OTHER{background:#ddd}
.new{color:#0a7d20;font-weight:bold}.escalated{color:#b35c00;font-weight:bold}
.status-cleared{color:#555}.status-confirmed{color:#b00;font-weight:bold}.status-in_review{color:#05a}
.tainted{background:#fde2e2}.muted{color:#777}.key{font-family:monospace}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:14px;height:10px;margin-right:4px}
.controls{margin:8px 0}.controls input,.controls select{padding:3px;margin-right:10px}
.scroll{overflow-x:auto;max-width:100%}td{overflow-wrap:anywhere}
</style>
"""

BASE = (
    """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="""
    + f'"{CONTENT_SECURITY_POLICY}">'
    + """
<meta name="referrer" content="no-referrer">
<title>{% block title %}{% endblock %} · fraud report {{ ds }}</title>
"""
    + STYLE
    + """</head>
<body>
<header><a href="{{ root }}index.html">Queue {{ ds }}</a><a href="{{ root }}quality.html">Data quality</a><a href="{{ root }}model.html">Model</a><a href="{{ root }}safeguards.html">Safeguards</a></header>
<main>
{% block body %}{% endblock %}
</main>
{% block script %}{% endblock %}
</body>
</html>
"""
)

SORT_AND_FILTER = """<script>
(function () {
  function value(cell) { return cell.getAttribute("data-v") !== null ? cell.getAttribute("data-v") : cell.textContent.trim(); }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, column) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var numeric = th.classList.contains("num");
        var ascending = th.getAttribute("data-dir") !== "asc";
        th.setAttribute("data-dir", ascending ? "asc" : "desc");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = value(a.cells[column]), y = value(b.cells[column]);
          if (numeric) { x = parseFloat(x) || 0; y = parseFloat(y) || 0; }
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  var text = document.getElementById("filter"), typology = document.getElementById("typology");
  var shown = document.getElementById("shown");
  function filter() {
    var needle = text ? text.value.toLowerCase() : "", wanted = typology ? typology.value : "";
    var rows = document.querySelectorAll("#queue tbody tr"), count = 0;
    rows.forEach(function (row) {
      var visible = (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0) &&
                    (!wanted || (row.getAttribute("data-types") || "").split(";").indexOf(wanted) >= 0);
      row.style.display = visible ? "" : "none";
      if (visible) { count += 1; }
    });
    if (shown) { shown.textContent = count + " of " + rows.length + " cases shown"; }
  }
  if (text) { text.addEventListener("input", filter); }
  if (typology) { typology.addEventListener("change", filter); }
})();
</script>
"""

INDEX = (
    """{% extends "base" %}
{% block title %}Investigation queue{% endblock %}
{% block body %}
<h1>Investigation queue · 조사 대상 {{ ds }}</h1>
<p id="summary">{{ cases|length }} cases, estimated overpayment {{ "{:,}".format(total_overpayment) }} KRW;
{{ rings|length }} rings; {{ workplaces|length }} suspected workplaces.
Rules {{ manifest.rules_version }}, model {{ manifest.model_version or "none (rules only)" }};
{{ applied_dispositions }} dispositions applied, {{ kept_out }} cleared cases kept out.</p>

<h2>Since yesterday</h2>
{% if previous_ds %}
<p id="changes">Compared with the queue of {{ previous_ds }}:
<span class="new">{{ new_count }} new</span>, <span class="escalated">{{ escalated_count }} escalated</span>,
{{ resolved|length }} resolved.</p>
{% if resolved %}
<table id="resolved"><thead><tr><th>case</th><th>rank on {{ previous_ds }}</th><th>fraud types</th><th class="num">amount</th><th>why not today</th></tr></thead><tbody>
{% for case in resolved %}<tr><td>{{ case.case_id }}</td><td>{{ case.rank }}</td><td>{{ case.fraud_types }}</td><td class="num">{{ "{:,}".format(case.estimated_overpayment) }}</td><td>{{ case.why }}</td></tr>
{% endfor %}</tbody></table>
{% endif %}
{% else %}
<p id="changes">No earlier run in this warehouse: every case is new.</p>
{% endif %}

<h2>Totals</h2>
<div style="display:flex;gap:30px;flex-wrap:wrap">
<table id="by-typology"><thead><tr><th>typology</th><th class="num">cases</th><th class="num">estimated overpayment (KRW)</th></tr></thead><tbody>
{% for row in by_typology %}<tr><td><span class="tag {{ row.key }}">{{ row.key }}</span></td><td class="num">{{ row.cases }}</td><td class="num">{{ "{:,}".format(row.amount) }}</td></tr>
{% endfor %}</tbody></table>
<table id="by-region"><thead><tr><th>region (시도)</th><th class="num">cases</th><th class="num">estimated overpayment (KRW)</th></tr></thead><tbody>
{% for row in by_region %}<tr><td>{{ row.key }}</td><td class="num">{{ row.cases }}</td><td class="num">{{ "{:,}".format(row.amount) }}</td></tr>
{% endfor %}</tbody></table>
</div>

<h2>Queue</h2>
<div class="controls"><input id="filter" type="search" placeholder="filter: case, workplace, reason…" aria-label="filter">
<select id="typology" aria-label="typology"><option value="">every typology</option>{% for row in by_typology %}<option value="{{ row.key }}">{{ row.key }}</option>{% endfor %}</select>
<span id="shown">{{ cases|length }} of {{ cases|length }} cases shown</span></div>
<table id="queue" class="sortable"><thead><tr><th class="num">rank</th><th>case</th><th class="num">score</th><th>fraud types</th><th class="num">estimated overpayment (KRW)</th><th>ring</th><th>workplace</th><th>region</th><th>person</th><th>status</th><th>change</th></tr></thead><tbody>
{% for case in cases %}<tr data-types="{{ case.fraud_types|join(';') }}"><td class="num">{{ case.rank }}</td><td><a href="cases/{{ case.case_id }}.html">{{ case.case_id }}</a></td><td class="num">{{ case.score }}</td><td>{% for t in case.fraud_types %}<span class="tag {{ t }}">{{ t }}</span>{% endfor %}</td><td class="num" data-v="{{ case.estimated_overpayment }}">{{ "{:,}".format(case.estimated_overpayment) }}</td><td>{% if case.ring_id %}<a href="rings/{{ case.ring_id }}.html">{{ case.ring_id }}</a>{% endif %}</td><td>{% if case.workplace_page %}<a href="workplaces/{{ case.workplace_id }}.html">{{ case.workplace_id }}</a>{% else %}{{ case.workplace_id }}{% endif %}</td><td>{{ case.region }}</td><td class="key">{{ case.person_short }}</td><td class="status-{{ case.status }}">{{ case.status }}</td><td class="{{ case.change }}">{{ case.change }}{% if case.previous_rank %} (was {{ case.previous_rank }}){% endif %}</td></tr>
{% endfor %}</tbody></table>

<h2>Rings</h2>
<table id="rings" class="sortable"><thead><tr><th>ring</th><th class="num">score</th><th class="num">workplaces</th><th class="num">persons</th><th class="num">claims</th><th>reasons</th></tr></thead><tbody>
{% for ring in rings %}<tr><td><a href="rings/{{ ring.ring_id }}.html">{{ ring.ring_id }}</a></td><td class="num">{{ ring.score }}</td><td class="num">{{ ring.workplace_ids|length }}</td><td class="num">{{ ring.person_count }}</td><td class="num">{{ ring.claim_count }}</td><td>{{ ring.reasons }}</td></tr>
{% endfor %}</tbody></table>

<h2>Suspected workplaces · 부정수급 의심사업장</h2>
<table id="workplaces" class="sortable"><thead><tr><th class="num">rank</th><th>workplace</th><th>name</th><th class="num">score</th><th>ring</th><th>fraud types</th><th class="num">flagged claims</th></tr></thead><tbody>
{% for w in workplaces %}<tr><td class="num">{{ w.rank }}</td><td><a href="workplaces/{{ w.workplace_id }}.html">{{ w.workplace_id }}</a></td><td>{{ w.name }}</td><td class="num">{{ w.score }}</td><td>{% if w.ring_id %}<a href="rings/{{ w.ring_id }}.html">{{ w.ring_id }}</a>{% endif %}</td><td>{{ w.fraud_types }}</td><td class="num">{{ w.flagged_claims }}</td></tr>
{% endfor %}</tbody></table>
{% endblock %}
{% block script %}"""
    + SORT_AND_FILTER
    + """{% endblock %}
"""
)

RECORDS = """{% macro records(id, rows, columns, highlight=None) %}
{% if rows %}<div class="scroll"><table id="{{ id }}"><thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr{% if highlight and row[highlight] %} class="tainted"{% endif %}>{% for c in columns %}<td>{{ row[c] if row[c] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>{% else %}<p class="muted" id="{{ id }}">none on record</p>{% endif %}
{% endmacro %}"""

CASE = """{% extends "base" %}{% from "records" import records %}
{% block title %}Case {{ case.case_id }}{% endblock %}
{% block body %}
<h1>Case {{ case.case_id }} · rank {{ case.rank }} · score {{ case.score }}</h1>
<p id="subject">Claim {{ case.claim_id }} of person <span class="key">{{ case.person_short }}</span>;
last workplace {% if case.workplace_page %}<a href="../workplaces/{{ case.workplace_id }}.html">{{ case.workplace_id }}</a>{% else %}{{ case.workplace_id }}{% endif %}{% if case.workplace_name %} ({{ case.workplace_name }}){% elif case.workplace_missing %} (<span id="workplace-missing">no record of this workplace as of {{ ds }}: quarantined or never delivered; judged on what the other records show</span>){% endif %};
{% if case.ring_id %}ring <a href="../rings/{{ case.ring_id }}.html">{{ case.ring_id }}</a>{% else %}in no ring{% endif %}.
Status: <span class="status-{{ case.status }}">{{ case.status }}</span>.</p>
<p>{% for t in case.fraud_types %}<span class="tag {{ t }}">{{ t }}</span>{% endfor %}</p>

<h2>Reasons</h2>
<ul id="reasons">{% for reason in case.reasons %}<li>{{ reason }}</li>{% endfor %}</ul>
<table id="rule-hits"><thead><tr><th>rule</th><th>typology</th><th>what it means</th><th>legal basis</th><th class="num">severity</th><th>effect</th></tr></thead><tbody>
{% for rule in case.rules %}<tr><td>{{ rule.rule_id }}</td><td>{{ rule.typology or "" }}</td><td>{{ rule.title }}</td><td>{{ rule.legal_basis }}</td><td class="num">{{ rule.severity }}</td><td>{{ rule.effect }}</td></tr>
{% endfor %}</tbody></table>

<h2>Timeline</h2>
<p class="legend"><span><i style="background:#4c78a8"></i>certified period</span><span><i style="background:#d62728"></i>tainted certified period</span><span><i style="background:#59a14f"></i>insured employment</span><span><i style="background:#f28e2b"></i>income statement (work period)</span><span><i style="background:#b07aa1"></i>abroad</span><span><i style="background:#d4b6cc"></i>possibly abroad</span></p>
{{ timeline }}

<h2>Overpayment, step by step</h2>
<ol id="overpayment">{% for step in case.steps %}<li>{{ step }}</li>{% endfor %}</ol>
<p id="standard">Evidence standard: <b>{{ case.evidence_standard }}</b> ({{ case.standard_meaning }}).</p>
<p id="estimated">Estimated overpayment, on proven evidence: <b>{{ "{:,}".format(case.estimated_overpayment) }} KRW</b>.</p>
{% if case.overpayment_if_confirmed > case.estimated_overpayment %}<p id="if-confirmed">If the estimates are confirmed: {{ "{:,}".format(case.overpayment_if_confirmed) }} KRW. An estimate, not proven: it counts certifications into which a statement's work days, spread evenly, reach.</p>{% endif %}
{% if case.settle %}<h3>What would settle it</h3>
<ul id="settle">{% for item in case.settle %}<li>{{ item }}</li>{% endfor %}</ul>{% endif %}
<p id="collection">Additional collection (추가징수) the policy allows: up to {{ case.multiplier }}× ({{ case.multiplier_basis }}) = <b>{{ "{:,}".format(case.additional_collection) }} KRW</b>; with the overpayment, up to {{ "{:,}".format(case.estimated_overpayment + case.additional_collection) }} KRW to recover.</p>

<h2>Evidence behind each hit</h2>
{{ records("evidence", case.evidence, ["rule_id", "typology", "standard", "taints", "cert_id", "cert_on", "period_from", "period_to", "channel", "ip_country", "declared_income", "paid_amount", "worked_days", "attributable_income", "income_record_ids", "crossing_ids", "evidence"], "taints") }}

<h2>Claim</h2>
{{ records("claim", case.claim, ["claim_id", "filed_on", "eligible_from", "separation_code", "benefit_days", "daily_amount", "status", "bank_account"]) }}

<h2>Certifications · 실업인정</h2>
{{ records("certifications", case.certifications, ["cert_id", "cert_on", "period_from", "period_to", "channel", "ip_country", "job_search_count", "declared_income", "paid_days", "paid_amount", "tainted"], "tainted") }}

<h2>Income statements · 과세정보</h2>
{% if case.income_window %}<p class="muted">Work around the claim ({{ case.income_window }}) first.</p>{% endif %}
{{ records("income", case.income, ["record_id", "payer_business_no", "income_type", "work_from", "work_to", "work_days", "amount", "filed_on"]) }}
{% if case.income_folded %}<details id="income-other"><summary>{{ case.income_folded|length }} more statements, for work outside {{ case.income_window }}</summary>
{{ records("income-folded", case.income_folded, ["record_id", "payer_business_no", "income_type", "work_from", "work_to", "work_days", "amount", "filed_on"]) }}</details>{% endif %}

<h2>Border crossings · 출입국</h2>
{{ records("crossings", case.crossings, ["crossing_id", "crossed_at", "direction", "port_code", "country"]) }}

<h2>Employment spells · 피보험자격</h2>
{{ records("employments", case.employments, ["employment_id", "workplace_id", "acquired_on", "lost_on", "separation_code", "monthly_wage"]) }}

<h2>Earlier findings · 부정수급 처분</h2>
{{ records("findings", case.findings, ["finding_id", "claim_id", "fraud_type", "decided_on", "overpaid_amount", "collusion"]) }}

<h2>Dispositions</h2>
{{ records("history", case.history, ["recorded_at", "status", "by", "note"]) }}
<p class="muted">Record a decision: <code>fraudctl disposition {{ case.case_id }} --status confirmed|cleared|in_review --note TEXT --by NAME</code></p>
{% endblock %}
"""

RING = """{% extends "base" %}{% from "records" import records %}
{% block title %}Ring {{ ring.ring_id }}{% endblock %}
{% block body %}
<h1>Ring {{ ring.ring_id }} · score {{ ring.score }}</h1>
<p id="ring-summary">{{ ring.workplace_ids|length }} workplaces, {{ ring.person_count }} persons, {{ ring.claim_count }} claims;
{{ ring.cases|length }} queued, estimated overpayment {{ "{:,}".format(ring.amount) }} KRW.</p>
<ul id="ring-reasons">{% for reason in ring.reasons.split(";") if reason %}<li>{{ reason }}</li>{% endfor %}</ul>
{% if ring.picture %}<h2>Picture</h2><img id="ring-picture" alt="ring {{ ring.ring_id }}" src="{{ ring.picture }}" style="max-width:100%;background:#fff">{% endif %}
<h2>Member workplaces</h2>
{{ records("members", ring.members, ["workplace", "name", "representative", "address", "phone", "bank_account", "region_code", "opened_on", "closed_on"]) }}
<h2>Shared attributes</h2>
{{ records("shared", ring.shared, ["attribute", "value", "workplaces"]) }}
<h2>Claims</h2>
{{ records("ring-claims", ring.claims, ["claim_id", "person", "workplace_id", "case", "rank", "fraud_types", "estimated_overpayment"]) }}
{% endblock %}
"""

WORKPLACE = """{% extends "base" %}{% from "records" import records %}
{% block title %}Workplace {{ w.workplace_id }}{% endblock %}
{% block body %}
<h1>Suspected workplace {{ w.workplace_id }} · rank {{ w.rank }} · score {{ w.score }}</h1>
<p id="workplace-name">{{ w.name }}</p>
<p>{% if w.ring_id %}Ring <a href="../rings/{{ w.ring_id }}.html">{{ w.ring_id }}</a>. {% endif %}{{ w.fraud_types }}</p>
<ul id="workplace-reasons">{% for reason in w.reasons.split(";") if reason %}<li>{{ reason }}</li>{% endfor %}</ul>
{{ records("workplace", w.record, ["workplace_id", "business_no", "name", "representative", "address", "phone", "bank_account", "industry_code", "region_code", "opened_on", "closed_on"]) }}
<h2>Flagged claims</h2>
{{ records("workplace-claims", w.claims, ["case", "rank", "claim_id", "person", "fraud_types", "estimated_overpayment"]) }}
{% endblock %}
"""

QUALITY = """{% extends "base" %}{% from "records" import records %}
{% block title %}Data quality{% endblock %}
{% block body %}
<h1>Data quality · {{ ds }}</h1>
<p id="quality-totals">{{ totals.rows_in }} rows delivered, {{ totals.valid }} valid, {{ totals.quarantined }} quarantined (kept under quarantine/ with the original line and the reason).</p>
<h2>Drops</h2>
<p>Expectations (Great Expectations) compare each drop with its table's earlier deltas: row count, null and code shares, integer values outside the usual range. Drift is a warning for the operator; the rows themselves passed the row checks. The baseline and a table's first deltas are only observed.</p>
{{ records("drops", drops, ["source", "drop_date", "table", "rows_in", "valid", "quarantined", "expectations", "evaluated", "drift"]) }}
<h2>Quarantine reasons per drop</h2>
{{ records("quarantine", quarantine, ["source", "drop_date", "table", "column", "check", "rows"]) }}
{% endblock %}
"""

MODEL = """{% extends "base" %}{% from "records" import records %}
{% block title %}Model{% endblock %}
{% block body %}
<h1>Scoring model · {{ ds }}</h1>
{% if model %}
<p id="model-version">Model version {{ model.version }} (run {{ model.run_id }}), trained on data {{ model.training_data_sha256 or "unknown" }}.</p>
<h2>Holdout figures</h2>
{{ records("holdout", model.metrics, ["metric", "value"]) }}
<h2>Model card: features</h2>
{{ records("features", model.features, ["name", "meaning", "source"]) }}
{% else %}
<p id="model-version">This night ran on the rules alone: no scoring model was in use{% if model_error %} ({{ model_error }}){% endif %}.</p>
{% endif %}
{% endblock %}
"""

SAFEGUARDS = """{% extends "base" %}{% from "records" import records %}
{% block title %}Safeguards{% endblock %}
{% block body %}
<h1>Safeguards · {{ ds }}</h1>
<p>What the investigators' decisions say about the queue, how much it may miss, and
whom it refers. Decisions are labels only for what was looked at: the queue's precision
comes from decided cases, the rate of fraud among the claims the queue left out from a
random control sample decided the same way. Each rate has its 95% interval (Wilson); a
rate on few decisions has a wide one and proves little.</p>

<h2>Estimates</h2>
<table id="estimates"><thead><tr><th>what</th><th class="num">decided</th><th class="num">confirmed</th><th class="num">rate</th><th>95% interval</th><th>what it means, and what it does not</th></tr></thead><tbody>
<tr><td>precision of the queue</td><td class="num">{{ queue.decided }}</td><td class="num">{{ queue.confirmed }}</td><td class="num">{{ queue.rate or "—" }}</td><td>{{ queue.interval }}</td><td>of the queued cases investigators decided, the share confirmed. Cases are decided in the order investigators pick them, mostly from the top, so this says more about the top of the queue than its tail.</td></tr>
<tr><td>fraud among the claims the queue left out</td><td class="num">{{ control.decided }}</td><td class="num">{{ control.confirmed }}</td><td class="num">{{ control.rate or "—" }}</td><td>{{ control.interval }}</td><td>of the control claims investigators decided, the share confirmed: an unbiased estimate of the fraud the queue misses{% if missed %}, about {{ missed }} of the {{ "{:,}".format(candidates) }} undecided claims the queue left out tonight{% endif %}. It pools every night's sample; it is no estimate for any one claim.</td></tr>
</tbody></table>
{% if not queue.decided and not control.decided %}<p id="no-decisions">No decisions yet: the rates appear once investigators decide queued cases and control claims.</p>{% endif %}

<h2>Control sample · 무작위 대조 표본</h2>
<p id="control-summary">{{ control_rows|length }} of {{ "{:,}".format(candidates) }} undecided claims the queue left out, drawn at random
(the smallest sha256 of "{{ ds }}:&lt;claim_id&gt;": the same on every re-run). They are no cases: not ranked, no
reasons. Decide them like cases; a decision on one is an unbiased label.</p>
{{ records("control", control_rows, ["draw_order", "case_id", "claim_id", "workplace_id", "filed_on", "person", "status"]) }}

<h2>Rules and typologies measured against decisions</h2>
{{ records("rule-precision", rules, ["kind", "subject", "count", "decided", "confirmed", "cleared", "rate", "interval"]) }}
<p>count: tonight's cases with the rule (or typology); decided, confirmed, cleared: every decision on a case that rested on it.</p>

<h2>Fairness of referrals · 공정성</h2>
<p>Per group, its share of the queue against its share of the undecided claims (the referral ratio) and, once cases are decided,
its confirmed rate against everyone's (the outcome ratio). A group is flagged when a ratio lies outside 0.8–1.25
<em>and</em> an exact binomial test finds the difference significant at 5% after a Bonferroni correction over the groups
tested, so a small group's noise is not flagged. A flag is a question for the rule owners, not a finding: the separation
code and the certification channel are themselves what some rules read.{% if flagged %} Flagged tonight: {{ flagged|join(", ") }}.{% else %} Nothing flagged tonight.{% endif %}</p>
{{ records("fairness", fairness, ["dimension", "group", "claims", "queued", "referral_ratio", "referral_p", "referral_flagged", "decided", "confirmed_rate", "outcome_ratio", "outcome_p", "outcome_flagged"], highlight="flag") }}
{% if not_used %}<h2>What the model must not use</h2>
{{ records("not-used", not_used, ["attribute", "why"]) }}{% endif %}
{% endblock %}
"""

TEMPLATES = {
    "base": BASE,
    "records": RECORDS,
    "index": INDEX,
    "case": CASE,
    "ring": RING,
    "workplace": WORKPLACE,
    "quality": QUALITY,
    "model": MODEL,
    "safeguards": SAFEGUARDS,
}
