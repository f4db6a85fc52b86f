"""The report page (`GET /reports/{id}/view`): a table and, where the report has one, its
chart, drawn in the browser with the Plotly library served by this service (no CDN).

The page itself holds no data. It signs in (or takes a token from `#token=…`, which never
reaches the server's logs), fetches the report's JSON with the bearer token, and renders it."""

from __future__ import annotations

import html
import json

from readmodels.i18n import N_, current_locale, gettext
from readmodels.reports import Report

# The page's own words, in the locale of the request for the page (the report's JSON, fetched by
# the browser with its own Accept-Language, brings the titles in the same one). `{name}` marks
# what the script fills in.
PAGE_TEXTS = {
    "username": N_("用户名"), "password": N_("密码"), "sign_in": N_("登录"), "sign_in_failed": N_("登录失败"),
    "now": N_("当前"), "meta": N_("期间：{period}　共 {total} 行"), "yes": N_("是"), "no": N_("否"),
    "previous": N_("上一页"), "next": N_("下一页"), "page": N_("第 {page} / {last} 页"),
}

PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 24px; color: #1f2328; }}
  h1 {{ font-size: 20px; margin: 0 0 4px; }}
  .meta {{ color: #57606a; margin-bottom: 16px; }}
  #chart {{ width: 100%; max-width: 960px; height: 420px; }}
  table {{ border-collapse: collapse; margin-top: 16px; font-size: 14px; }}
  th, td {{ border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; }}
  th {{ background: #f6f8fa; }}
  td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
  #signin {{ display: none; max-width: 320px; }}
  #signin input {{ display: block; margin: 6px 0; width: 100%; }}
  #error {{ color: #cf222e; }}
  nav button {{ margin-right: 8px; }}
</style>
</head>
<body data-report="{id}">
<h1>{id} {title}</h1>
<div class="meta" id="meta"></div>
<form id="signin">
  <input name="username" placeholder="{username}" autocomplete="username" required>
  <input name="password" type="password" placeholder="{password}" autocomplete="current-password" required>
  <button type="submit">{sign_in}</button>
</form>
<div id="error"></div>
<div id="chart" {chart_hidden}></div>
<nav id="pages"></nav>
<table id="table"><thead></thead><tbody></tbody></table>
<script src="{asset}"></script>
<script>
const REPORT = {report_json};
const API = "{api}";
const NUMERIC = new Set({numeric_json});
const TEXTS = {texts_json};
const MOMENTS = new Set({moments_json});
let page = 1;

function token() {{
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {{
    sessionStorage.setItem("crm_token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }}
  return sessionStorage.getItem("crm_token");
}}

function say(key, values = {{}}) {{
  let text = TEXTS[key];
  for (const [name, value] of Object.entries(values)) text = text.split("{{" + name + "}}").join(String(value));
  return text;
}}

function showError(text) {{ document.getElementById("error").textContent = text; }}

async function load() {{
  const bearer = token();
  if (!bearer) {{ document.getElementById("signin").style.display = "block"; return; }}
  const params = new URLSearchParams(location.search);
  params.delete("format");
  params.set("page", page);
  params.set("page_size", params.get("page_size") || "200");
  const response = await fetch(`${{API}}/reports/${{REPORT.id}}?${{params}}`,
                               {{headers: {{Authorization: "Bearer " + bearer}}}});
  if (response.status === 401) {{
    sessionStorage.removeItem("crm_token");
    document.getElementById("signin").style.display = "block";
    return;
  }}
  const body = await response.json();
  if (!response.ok) {{ showError(body.error ? body.error.message : response.statusText); return; }}
  render(body);
}}

function render(report) {{
  const period = report.period ? `${{report.period.start}} — ${{report.period.end}}` : say("now");
  document.getElementById("meta").textContent = say("meta", {{period, total: report.total}});
  const columns = report.columns.filter(c => !c.key.endsWith("_id") && c.key !== "id");
  const head = document.querySelector("#table thead");
  const body = document.querySelector("#table tbody");
  head.replaceChildren(); body.replaceChildren();
  const headRow = head.insertRow();
  for (const column of columns) {{
    const cell = document.createElement("th"); cell.textContent = column.title; headRow.appendChild(cell);
  }}
  for (const row of report.rows) {{
    const line = body.insertRow();
    for (const column of columns) {{
      const cell = line.insertCell();
      const value = row[column.key];
      cell.textContent = value === null || value === undefined ? "" : (value === true ? say("yes") :
                                                                       value === false ? say("no") : value);
      // Moments arrive on the business clock with its offset: shown as its wall time.
      if (MOMENTS.has(column.key) && typeof value === "string") {{
        cell.textContent = value.slice(0, 16).replace("T", " ");
        cell.title = value;
      }}
      if (NUMERIC.has(column.key)) cell.className = "num";
    }}
  }}
  pages(report);
  if (report.chart) drawChart(report.chart);
  document.body.dataset.rendered = "true";
}}

function pages(report) {{
  const nav = document.getElementById("pages");
  nav.replaceChildren();
  const last = Math.max(1, Math.ceil(report.total / report.page_size));
  if (last === 1) return;
  for (const [label, target] of [[say("previous"), page - 1], [say("next"), page + 1]]) {{
    const button = document.createElement("button");
    button.textContent = label;
    button.disabled = target < 1 || target > last;
    button.onclick = () => {{ page = target; load(); }};
    nav.appendChild(button);
  }}
  nav.appendChild(document.createTextNode(say("page", {{page, last}})));
}}

function drawChart(chart) {{
  let traces;
  if (chart.type === "pie") {{
    traces = [{{type: "pie", labels: chart.x, values: chart.series[0].data.map(Number), hole: 0.3}}];
  }} else {{
    traces = chart.series.map(s => ({{
      type: chart.type === "bar" ? "bar" : "scatter", mode: "lines+markers",
      name: s.name, x: chart.x, y: s.data.map(Number),
    }}));
  }}
  Plotly.newPlot("chart", traces, {{margin: {{t: 24}}, barmode: "group"}},
                 {{displaylogo: false, responsive: true, staticPlot: false}});
}}

document.getElementById("signin").addEventListener("submit", async event => {{
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch(`${{API}}/auth/token`, {{method: "POST", body: new URLSearchParams(form)}});
  const body = await response.json();
  if (!response.ok) {{ showError(body.error ? body.error.message : say("sign_in_failed")); return; }}
  sessionStorage.setItem("crm_token", body.access_token);
  event.target.style.display = "none";
  showError("");
  load();
}});

load().catch(error => showError(String(error)));
</script>
</body>
</html>
"""


def report_page(spec: Report, api_prefix: str, asset: str) -> str:
    numeric = [c.key for c in spec.columns if c.kind in ("int", "money", "quantity", "share")]
    return PAGE.format(
        id=html.escape(spec.id), title=html.escape(gettext(spec.title)), api=api_prefix, asset=asset,
        lang="zh-CN" if current_locale().startswith("zh") else "en",
        **{key: html.escape(gettext(PAGE_TEXTS[key])) for key in ("username", "password", "sign_in")},
        texts_json=json.dumps({key: gettext(text) for key, text in PAGE_TEXTS.items()},
                              ensure_ascii=False).replace("</", "<\\/"),
        chart_hidden="" if spec.chart else "hidden",
        report_json=json.dumps({"id": spec.id, "chart": spec.chart}, ensure_ascii=False),
        numeric_json=json.dumps(numeric),
        moments_json=json.dumps([c.key for c in spec.columns if c.kind == "datetime"]),
    )
