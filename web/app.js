// streamlens web: a static page over the public API. No framework, no third-party host.
"use strict";

const API = new URL(window.STREAMLENS_API || "/", document.baseURI);
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

class ApiError extends Error {}

async function api(path, params = {}) {
  const url = new URL(path.replace(/^\//, ""), API);
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  let response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" } });
  } catch (exc) {
    throw new ApiError(`The API cannot be reached (${exc.message}).`);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = body.error || {};
    throw new ApiError(error.message || `The API answered ${response.status}.`);
  }
  return body;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(output, exc) {
  output.replaceChildren(element("p", { class: "error", role: "alert", text: exc.message }));
}

function titleLink(item) {
  const id = item.title_id || item.id;
  return element("a", { href: `#title/${encodeURIComponent(id)}`, text: item.title });
}

const LINKED = new Set(["title"]);

function table(rows) {
  const columns = Object.keys(rows[0] || {});
  const head = element("tr", {}, ...columns.map((c) => element("th", { scope: "col", text: c })));
  const body = rows.map((row) => element("tr", {}, ...columns.map((c) => {
    const cell = element("td");
    if (LINKED.has(c) && (row.title_id || (row.id && /^[adhn]s/.test(row.id)))) cell.append(titleLink(row));
    else cell.textContent = format(row[c], c);
    return cell;
  })));
  return element("table", {}, element("thead", {}, head), element("tbody", {}, ...body));
}

// Whole numbers get thousands separators, except years.
function format(value, key = "") {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => format(v, key)).join(", ");
  if (typeof value === "object") return value.title ?? JSON.stringify(value);   // e.g. because_you_rated
  if (typeof value === "number" && Number.isInteger(value) && !key.includes("year")) return value.toLocaleString("en");
  return String(value);
}

// Any answer: its message first, then its plain fields, then its lists as tables.
function render(answer) {
  const parts = [];
  if (answer.message) parts.push(element("p", { class: "message", text: answer.message }));
  const fields = Object.entries(answer).filter(([k, v]) => k !== "message" && !(Array.isArray(v) && typeof v[0] === "object"));
  if (fields.length) {
    parts.push(element("dl", {}, ...fields.flatMap(([k, v]) => [element("dt", { text: k }),
      element("dd", { text: format(v, k), "data-field": k })])));
  }
  for (const [key, value] of Object.entries(answer)) {
    if (Array.isArray(value) && value.length && typeof value[0] === "object") {
      parts.push(element("h4", { text: key }), table(value));
    }
  }
  return parts;
}

// Fields are checked before anything is sent: the first invalid one is named with the browser's reason.
function rejectInvalid(form, output) {
  if (form.checkValidity()) return false;
  form.reportValidity();
  const bad = $$("input, select", form).find((field) => !field.validity.valid);
  showError(output, new Error(`${bad.name}: ${bad.validationMessage}`));
  return true;
}

async function submitQuery(event) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output)) return;
  const params = Object.fromEntries(new FormData(form));
  output.replaceChildren(element("p", { class: "pending", text: "…" }));
  try {
    output.replaceChildren(...render(await api(form.dataset.query, params)));
  } catch (exc) {
    showError(output, exc);
  }
}

// --- titles: autocomplete and title pages --------------------------------------------------------
const choices = new Map();
let searchTimer = null;

function describe(item) {
  return `${item.title} (${item.platform}, ${item.release_year})`;
}

async function suggest() {
  const q = $("#title-q").value.trim();
  if (q.length < 2 || choices.has(q)) return;
  try {
    const found = await api("/titles", { q, limit: 10 });
    $("#title-options").replaceChildren(...found.items.map((item) => {
      choices.set(describe(item), item.id);
      return element("option", { value: describe(item) });
    }));
  } catch (exc) {
    showError($("output", $("#title-search")), exc);
  }
}

async function openSearch(event) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output)) return;
  const q = $("#title-q").value.trim();
  let id = choices.get(q);
  if (!id) {
    try {
      const found = await api("/titles", { q, limit: 1 });
      if (!found.items.length) return showError(output, new Error(`No title matches "${q}".`));
      id = found.items[0].id;
    } catch (exc) {
      return showError(output, exc);
    }
  }
  output.replaceChildren();
  location.hash = `#title/${encodeURIComponent(id)}`;
}

async function showTitle(id) {
  const page = $("#title-page");
  page.hidden = false;
  page.replaceChildren(element("p", { class: "pending", text: "…" }));
  try {
    const [title, similar] = await Promise.all([api(`/titles/${encodeURIComponent(id)}`),
      api("/similar", { title_id: id, n: 5 })]);
    const facts = ["platform", "type", "release_year", "duration_int", "duration_type", "rating", "listed_in",
      "director", "cast", "country", "date_added"].filter((k) => title[k] !== null && title[k] !== undefined);
    const score = title.score === null ? "not rated yet" : `${title.score.toFixed(2)} from ${title.rating_count.toLocaleString("en")} ratings`;
    const predict = element("form", { id: "predict-form", novalidate: "" },
      element("label", {}, "Predicted rating for user id ",
        element("input", { name: "user_id", type: "number", min: "1", step: "1", required: "" })),
      element("button", { text: "Predict" }), element("output"));
    predict.addEventListener("submit", (event) => predictFor(event, id));
    page.replaceChildren(
      element("h3", { text: title.title }),
      element("p", { class: "message", "data-field": "score", text: `Score: ${score}` }),
      element("p", { text: title.description || "" }),
      element("dl", {}, ...facts.flatMap((k) => [element("dt", { text: k }), element("dd", { text: format(title[k], k) })])),
      element("h4", { text: "Similar titles" }),
      element("ol", { class: "similar" }, ...similar.similar.map((s) => element("li", {}, titleLink(s),
        ` (${s.platform}, ${s.release_year})`))),
      predict,
    );
    $("h3", page).focus?.();
  } catch (exc) {
    showError(page, exc);
  }
}

async function predictFor(event, titleId) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output)) return;
  try {
    const answer = await api("/recommend", { user_id: $("input", form).value, title_id: titleId });
    const verdict = answer.recommend ? "recommended" : "not recommended";
    const note = answer.cold_start ? " This user has no ratings yet, so this is the title's average." : "";
    const place = answer.already_rated ? " The user has rated it already."
      : ` It is number ${answer.rank_on_platform} of the user's unrated titles on ${answer.platform} (recommended: top 100).`;
    output.replaceChildren(element("p", { class: "message", text:
      `Predicted rating ${answer.predicted_rating.toFixed(2)}: ${verdict}.${place}${note}` }));
  } catch (exc) {
    showError(output, exc);
  }
}

// --- a user's recommendations ------------------------------------------------------------------
async function recommend(event) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output)) return;
  const { user_id: user, n, platform } = Object.fromEntries(new FormData(form));
  try {
    const answer = await api(`/users/${encodeURIComponent(user)}/recommendations`, { n, platform });
    const intro = answer.cold_start
      ? `User ${user} has no ratings yet (cold start): ${answer.message}.`
      : `The ${answer.items.length} titles user ${user} should like most${answer.platform ? ` on ${answer.platform}` : ""}:`;
    output.replaceChildren(element("p", { class: "message", text: intro }), table(answer.items));
  } catch (exc) {
    showError(output, exc);
  }
}

// --- set-up and navigation ---------------------------------------------------------------------
async function loadCatalog() {
  try {
    const catalog = await api("/catalog");
    for (const select of $$("select[data-platforms]")) {
      const options = catalog.platforms.map((p) => element("option", { value: p.code, text: p.name }));
      if (select.hasAttribute("data-optional")) options.unshift(element("option", { value: "", text: "any" }));
      select.replaceChildren(...options);
    }
    for (const input of $$("input[data-years]")) {
      input.min = catalog.release_years.min;
      input.max = catalog.release_years.max;
      input.placeholder = `${catalog.release_years.min}–${catalog.release_years.max}`;
    }
  } catch (exc) {
    showError($("#status"), exc);
  }
}

async function loadReports() {
  try {
    const listing = await api("/reports");
    $("#report-list").replaceChildren(...listing.reports.map((r) => element("li", {},
      element("a", { href: new URL(r.path.replace(/^\//, ""), API).href, text: r.name }), ` (${r.content_type})`)));
  } catch (exc) {
    showError($("#report-list"), exc);
  }
}

function route() {
  const hash = decodeURIComponent(location.hash.slice(1)) || "streaming";
  let [tab, id] = hash.startsWith("title/") ? ["titles", hash.slice(6)] : [hash, null];
  if (!$(`[data-panel="${CSS.escape(tab)}"]`)) {          // an in-page anchor (the skip link), not a tab
    if ($$("[data-panel]").some((panel) => !panel.hidden)) return;
    tab = "streaming";
  }
  for (const panel of $$("[data-panel]")) panel.hidden = panel.dataset.panel !== tab;
  for (const link of $$("nav a")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (id) showTitle(id);
  if (tab === "reports") loadReports();
}

document.addEventListener("DOMContentLoaded", () => {
  $$("form[data-query]").forEach((form) => form.addEventListener("submit", submitQuery));
  $("#title-search").addEventListener("submit", openSearch);
  $("#title-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(suggest, 150);
  });
  $("#user-form").addEventListener("submit", recommend);
  window.addEventListener("hashchange", route);
  loadCatalog();
  route();
});
