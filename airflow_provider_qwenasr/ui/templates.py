# ruff: noqa: E501 - HTML template lines are long; wrapping them would add whitespace to the pages
"""The pages' HTML, as Jinja2 templates rendered with autoescaping (see :mod:`.render`).

No template marks anything ``|safe`` except the SVG built by :mod:`.timeline`, which escapes its
own texts. The pages carry no script: the Content-Security-Policy the app sends forbids any.
"""

from __future__ import annotations

__all__ = ["TEMPLATES"]

_CSS = """
:root { color-scheme: light dark; --fg:#1f2937; --muted:#6b7280; --bg:#fff; --line:#e5e7eb;
  --accent:#0f766e; --bad:#b91c1c; --chip:#f3f4f6; }
@media (prefers-color-scheme: dark) { :root { --fg:#e5e7eb; --muted:#9ca3af; --bg:#111827;
  --line:#374151; --accent:#2dd4bf; --bad:#f87171; --chip:#1f2937; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); margin: 0; padding: 12px 16px; }
h1 { font-size: 18px; margin: 0 0 8px; } h2 { font-size: 15px; margin: 18px 0 6px; }
a { color: var(--accent); } .muted { color: var(--muted); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: var(--muted); } dl.meta dd { margin: 0; }
.chip { display: inline-block; padding: 0 8px; border-radius: 10px; background: var(--chip);
  margin: 0 4px 2px 0; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.status-SUCCEEDED { color: var(--accent); } .status-FAILED, .bad { color: var(--bad); }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 4px 8px;
  border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; } td.time { white-space: nowrap;
  font-variant-numeric: tabular-nums; } td.text { white-space: pre-wrap; }
nav.tabs a, nav.tabs span { margin-right: 10px; } nav.tabs span { font-weight: 600; }
.pager { margin: 8px 0; } .pager a, .pager span { margin-right: 12px; }
svg.timeline { width: 100%; max-width: 1000px; height: auto; display: block; margin: 6px 0; }
svg.timeline .label, svg.timeline .axis { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg.timeline .axis { fill: var(--muted); font-size: 10px; }
svg.timeline .tick { stroke: var(--line); } svg.timeline .track { fill: var(--chip); }
svg.spend { width: 100%; max-width: 1000px; height: auto; display: block; margin: 6px 0; }
svg.spend .axis, svg.spend .value { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg.spend .value { fill: var(--fg); } svg.spend .tick { stroke: var(--line); }
table.spend { width: auto; } table.spend th.window { text-align: center; }
pre.log { background: var(--chip); padding: 8px; overflow-x: auto; white-space: pre-wrap; }
form.filters { margin: 6px 0 10px; } form.filters label { margin-right: 12px; }
"""

_BASE = (
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{{ title }}</title><style>"""
    + _CSS
    + """</style></head>
<body>{% block body %}{% endblock %}</body></html>
"""
)

_TASK_HEADER = """
<h1>Transcript <span class="muted">· {{ ti.task_id }}{% if ti.map_index >= 0 %} [{{ ti.map_index }}]{% endif %}</span></h1>
"""

_TRANSCRIPT = (
    """{% extends "base.html" %}{% block body %}"""
    + _TASK_HEADER
    + """
<dl class="meta">
  <dt>DashScope task</dt><dd><code>{{ m.asr_task_id }}</code>
    <span class="status-{{ m.status }}">{{ m.status or "" }}</span></dd>
  {% for label, value in timeline %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}
  <dt>Audio duration</dt><dd>{{ duration }}</dd>
  {% if m.usage_seconds is not none %}<dt>Billed audio</dt><dd>{{ m.usage_seconds }} s</dd>{% endif %}
  <dt>Languages</dt><dd>{% for lang in languages %}<span class="chip">{{ lang }}</span>{% else %}<span class="muted">—</span>{% endfor %}</dd>
  <dt>Emotions</dt><dd>{% for emo in emotions %}<span class="chip"><span class="swatch" style="background:{{ color(emo) }}"></span>{{ emo }}</span>{% else %}<span class="muted">—</span>{% endfor %}</dd>
  {% if totals %}<dt>Files</dt><dd>{{ totals.get("succeeded", 0) }} succeeded, {{ totals.get("failed", 0) }} failed</dd>{% endif %}
</dl>
{% if files|length > 1 %}
<h2>Files</h2>
<nav class="tabs">{% for f in files %}{% if f.index == current.index %}<span>{{ f.label }}</span>{% else %}<a href="{{ f.href }}">{{ f.label }}</a>{% endif %}{% endfor %}</nav>
{% endif %}
<h2>{{ current.label }} <span class="muted status-{{ current.status }}">{{ current.status }}</span></h2>
{% if current.status == "FAILED" %}
<dl class="meta"><dt>Code</dt><dd>{{ current.code or "—" }}</dd><dt>Message</dt><dd>{{ current.message or "—" }}</dd></dl>
{% else %}
{% if downloads %}<p>Download: {% for fmt, href in downloads %}<a href="{{ href }}" download>{{ fmt }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</p>{% endif %}
{% if notice %}<p class="bad">{{ notice }}</p>{% endif %}
{% if page %}
{{ svg }}
<p class="muted">{% for emo in page.emotions %}<span class="swatch" style="background:{{ color(emo) }}"></span>{{ emo }} {% endfor %}</p>
<nav class="tabs">{% for key, label, href in lane_links %}{% if key == lane %}<span>{{ label }}</span>{% else %}<a href="{{ href }}">{{ label }}</a>{% endif %}{% endfor %}</nav>
<table class="sentences">
<thead><tr><th>Start</th><th>{% if page.lanes|length > 1 %}Lane{% endif %}</th><th>Text</th><th></th></tr></thead>
<tbody>
{% for row in page.rows %}<tr><td class="time">{{ clock(row.begin_time) }}</td><td>{% if page.lanes|length > 1 %}{{ lane_labels[row.lane] }}{% endif %}</td><td class="text">{{ row.text }}</td><td class="muted">{{ row.emotion or "" }}{% if row.language %} {{ row.language }}{% endif %}</td></tr>
{% else %}<tr><td colspan="4" class="muted">No sentences.</td></tr>{% endfor %}
</tbody></table>
<div class="pager">{% if prev_href %}<a href="{{ prev_href }}">&lsaquo; Previous</a>{% endif %}<span>Page {{ page.page }} of {{ page.pages }} · {{ page.total }} sentences</span>{% if next_href %}<a href="{{ next_href }}">Next &rsaquo;</a>{% endif %}</div>
{% endif %}
{% endif %}
{% endblock %}"""
)

_NO_TRANSCRIPT = (
    """{% extends "base.html" %}{% block body %}"""
    + _TASK_HEADER
    + """
<dl class="meta">
  <dt>State</dt><dd class="{{ 'bad' if failed else '' }}">{{ ti.state or "none" }}</dd>
  <dt>Try</dt><dd>{{ ti.try_number }}</dd>
  {% for label, value in timeline %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}
  {% if failure and failure.asr_task_id %}<dt>DashScope task</dt><dd><code>{{ failure.asr_task_id }}</code></dd>{% endif %}
  {% if failure %}{% for key in ("code", "message", "request_id") %}{% if failure.fields.get(key) %}<dt>{{ key }}</dt><dd><code>{{ failure.fields[key] }}</code></dd>{% endif %}{% endfor %}{% endif %}
</dl>
{% if failed %}
  {% if failure and failure.error %}<h2>Error</h2><pre class="log">{{ failure.error }}</pre>{% endif %}
  {% if failure and failure.log_lines %}<h2>Last error lines of the log</h2><pre class="log">{% for line in failure.log_lines %}{{ line }}
{% endfor %}</pre>{% endif %}
  <p class="muted">{{ hint }}</p>
{% elif mapped %}
  <p>This task is mapped. Transcripts of its instances:</p>
  <ul>{% for index, href in mapped %}<li><a href="{{ href }}">map index {{ index }}</a></li>{% endfor %}</ul>
{% else %}
  <p class="muted">{{ hint }}</p>
{% endif %}
{% endblock %}"""
)

_LIST = """{% extends "base.html" %}{% block body %}
<h1>Transcriptions</h1>
<form class="filters" method="get">
  <label>DAG <select name="dag_id"><option value="">all</option>{% for d in dag_options %}<option value="{{ d }}"{% if d == dag_id %} selected{% endif %}>{{ d }}</option>{% endfor %}</select></label>
  <label>Status <select name="status"><option value="">any</option>{% for s in status_options %}<option value="{{ s }}"{% if s == status %} selected{% endif %}>{{ s }}</option>{% endfor %}</select></label>
  <button type="submit">Filter</button>
</form>
<section class="spend" aria-labelledby="spend-heading">
<h2 id="spend-heading">Spend{% if dag_id or status %} <span class="muted">· filtered</span>{% endif %}</h2>
<table class="spend">
<thead><tr><th rowspan="2">DAG</th><th colspan="3" class="window">Last 24 hours</th><th colspan="3" class="window">Last 7 days</th></tr>
<tr>{% for _ in (1, 2) %}<th>Transcriptions</th><th>Audio</th><th>Billed</th>{% endfor %}</tr></thead>
<tbody>
{% macro figures(f) %}<td class="count">{{ f.count }}{% if f.by_status %} <span class="muted">({% for s, n in f.by_status|dictsort %}<span class="status-{{ s }}">{{ n }} {{ s }}</span>{% if not loop.last %}, {% endif %}{% endfor %})</span>{% endif %}</td>
<td class="time">{{ seconds(f.audio_seconds) }} <span class="muted">{{ hours(f.audio_seconds) }}</span></td>
<td class="time billed">{{ seconds(f.billed_seconds) }} <span class="muted">{{ hours(f.billed_seconds) }}</span>{% if f.without_usage %} <span class="muted" title="transcriptions without a billed figure">+{{ f.without_usage }} unbilled</span>{% endif %}</td>{% endmacro %}
{% for d in spend.dags %}<tr class="spend-dag"><td>{{ d.dag_id }}</td>{{ figures(d.day) }}{{ figures(d.week) }}</tr>
{% else %}<tr><td colspan="7" class="muted">No transcriptions in the last 7 days{% if dag_id or status %} match the filter{% endif %}.</td></tr>{% endfor %}
</tbody>
{% if spend.dags|length > 1 %}<tfoot><tr class="spend-total"><th>All DAGs</th>{{ figures(spend.day) }}{{ figures(spend.week) }}</tr></tfoot>{% endif %}
</table>
{{ spend_chart }}
<p class="muted">Billed seconds are DashScope's <code>usage.seconds</code>; audio is the duration of the files that succeeded. Days are UTC.
{% if spend.truncated %}<span class="bad">Only the newest {{ spend.limit }} transcriptions of the last 7 days are counted.</span>{% endif %}
<a href="{{ spend_href }}">JSON</a></p>
</section>
<h2>Transcriptions</h2>
<table class="transcriptions">
<thead><tr><th>When</th><th>DAG</th><th>Run</th><th>Task</th><th>Map index</th><th>DashScope task</th><th>Status</th><th>Audio</th><th>Languages</th><th>Characters</th><th>Outputs</th></tr></thead>
<tbody>
{% for r in rows %}<tr class="transcription">
<td class="time">{{ r.when }}</td><td>{{ r.dag_id }}</td><td><a href="{{ r.run_href }}" target="_top">{{ r.run_id }}</a></td>
<td><a href="{{ r.tab_href }}" target="_top">{{ r.task_id }}</a></td><td>{{ r.map_index if r.map_index >= 0 else "" }}</td>
<td><code>{{ r.asr_task_id }}</code></td><td class="status-{{ r.status }}">{{ r.status }}</td><td class="time">{{ r.duration }}</td>
<td>{% for lang in r.languages %}<span class="chip">{{ lang }}</span>{% endfor %}</td><td>{{ r.characters }}</td>
<td>{{ r.formats|join(", ") }}</td></tr>
{% else %}<tr><td colspan="11" class="muted">No transcriptions{% if dag_id or status %} match the filter{% endif %}.</td></tr>{% endfor %}
</tbody></table>
<div class="pager">{% if prev_href %}<a href="{{ prev_href }}">&lsaquo; Newer</a>{% endif %}<span>Page {{ page }} of {{ pages }} · {{ total }} transcriptions</span>{% if next_href %}<a href="{{ next_href }}">Older &rsaquo;</a>{% endif %}</div>
{% endblock %}"""

_ERROR = """{% extends "base.html" %}{% block body %}
<h1>{{ code }} · {{ heading }}</h1><p>{{ detail }}</p>
{% if login_href %}<p><a href="{{ login_href }}" target="_top">Log in to Airflow</a></p>{% endif %}
{% endblock %}"""

#: Template name → source.
TEMPLATES: dict[str, str] = {
    "base.html": _BASE,
    "transcript.html": _TRANSCRIPT,
    "no_transcript.html": _NO_TRANSCRIPT,
    "transcriptions.html": _LIST,
    "error.html": _ERROR,
}
