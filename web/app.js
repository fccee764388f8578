// streamlens web: a static page over the public API. No framework, no third-party host.
// Routes (the hash, so Back works): #/ search, #/search?q=…&platform=… results, #/title/<id> a title,
// #/for-you, #/streaming, #/movies, #/reports.
"use strict";

const API = new URL(window.STREAMLENS_API || "/", document.baseURI);
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

// --- the API -------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(message, { status = 0, parameter = null, suggestions = [] } = {}) {
    super(message);
    Object.assign(this, { status, parameter, suggestions });
  }
}

function apiUrl(path, params = {}) {
  const url = new URL(path.replace(/^\//, ""), API);
  for (const [key, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) url.searchParams.set(key, value);
  }
  return url;
}

// GET, or POST when a body is given; an error answer becomes an ApiError with the API's message,
// parameter and suggestions.
async function api(path, params = {}, body = undefined) {
  const init = { headers: { accept: "application/json" } };
  if (body !== undefined) {
    Object.assign(init, { method: "POST", body: JSON.stringify(body) });
    init.headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(apiUrl(path, params), init);
  } catch (exc) {
    throw new ApiError(`The API cannot be reached (${exc.message}).`);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = answer.error || {};
    throw new ApiError(error.message || `The API answered ${response.status}.`,
      { status: response.status, parameter: error.parameter || null, suggestions: error.suggestions || [] });
  }
  return answer;
}

// --- building the page ---------------------------------------------------------------------------
function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function pending(target) {
  target.replaceChildren(element("p", { class: "pending", text: "Loading…" }));
}

// An error in words: the API's message and, when it names one, the parameter (and the field's label).
function errorParts(exc, form = null) {
  const parts = [capitalize(exc.message)];
  if (exc.parameter) {
    const field = form && $(`[name="${CSS.escape(exc.parameter)}"]`, form);
    const label = field?.closest("label")?.firstChild?.textContent.trim();
    parts.push(label ? `(parameter “${exc.parameter}”, the ${label} field)` : `(parameter “${exc.parameter}”)`);
  }
  return element("p", { class: "error", role: "alert", text: parts.join(" ") });
}

function showError(target, exc, form = null) {
  target.replaceChildren(errorParts(exc, form));
}

// "Did you mean": each suggestion a link (a URL) or a button (an action).
function didYouMean(suggestions, makeLink) {
  const items = suggestions.map((s) => element("li", {}, makeLink(s)));
  return element("div", { class: "suggestions" }, element("p", { text: "Did you mean:" }),
    element("ul", {}, ...items));
}

// --- words -------------------------------------------------------------------------------------
const capitalize = (text) => (text ? text[0].toUpperCase() + text.slice(1) : "");
const platformName = (code) => capitalize(String(code ?? ""));
const typeName = (type) => (type === "tv show" ? "TV show" : capitalize(type));
const number = (value) => Number(value).toLocaleString("en");
const money = (value) => `$${Math.round(value).toLocaleString("en")}`;
const plural = (count, one, many = `${one}s`) => `${number(count)} ${count === 1 ? one : many}`;

function duration(amount, unit) {
  if (amount === null || amount === undefined) return "";
  return unit === "season" ? plural(amount, "season") : `${number(amount)} min`;
}

function scoreInWords(score, count) {
  if (score === null || score === undefined || !count) return "Not rated yet.";
  return `Scored ${score.toFixed(2)} out of 5 by ${plural(count, "rating")}.`;
}

function starsInWords(rating) {
  return `${rating} ${rating === 1 ? "star" : "stars"}`;
}

// The labels and formats of every field an answer can hold; a field not listed is humanized.
const LABELS = {
  title: "Title", platform: "Platform", type: "Type", release_year: "Released", duration_int: "Duration",
  scored: "Score above", year: "Year", count: "How many", actor: "Actor", appearances: "Appearances",
  ties: "Tied with", idioma: "Language asked for", pelicula: "Title asked for", titulo: "Title asked for",
  franquicia: "Collection asked for", name: "Name", revenue: "Revenue", total_revenue: "Total revenue",
  average_revenue: "Average revenue", total_return: "Total return (revenue / budget)", runtime: "Runtime",
  release_date: "Released", return: "Return (revenue / budget)", budget: "Budget", similarity: "Similarity",
  movie: "Movie found", movies: "Movies", similar: "Similar movies", other_matches: "Other movies with this title",
  score: "Score", rating_count: "Ratings",
};
const FORMATS = {
  platform: platformName, type: typeName, year: String, release_year: String, actor: capitalizeList,
  ties: (v) => (v.length ? v.map(capitalizeList).join(", ") : "nobody"),
  revenue: money, total_revenue: money, average_revenue: money, budget: money,
  total_return: (v) => `${v.toFixed(2)} times the budget`, return: (v) => `${v.toFixed(2)} times the budget`,
  runtime: (v) => (v === null ? "unknown" : `${Math.round(v)} min`), similarity: (v) => `${Math.round(v * 100)}% alike`,
  movie: (v) => `${v.title} (${v.release_year})`, scored: (v) => `${v} out of 5`,
};
// Not shown as fields: the message has its own sentence, an id becomes a link, a unit joins its amount,
// `recommendations` repeats `similar`'s titles.
const HIDDEN = new Set(["message", "id", "duration_type", "recommendations"]);

const label = (key) => LABELS[key] || capitalize(key.replaceAll("_", " "));

function fieldText(key, value, answer) {
  if (value === null && key === "year") return "any year";
  if (value === null || value === undefined) return "unknown";
  if (key === "duration_int") return duration(value, answer.duration_type);
  if (FORMATS[key]) return FORMATS[key](value);
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  if (typeof value === "object") return value.title ?? Object.values(value).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") return number(value);
  return String(value);
}

// A title as the catalog writes it (`display_title`), not the brief's lowercase `title`.
const shownTitle = (item) => item.display_title ?? item.title;

// A streaming title (ids like ns1) links to its page; a movie's title is text.
function titleLink(item) {
  const id = String(item.title_id ?? item.id ?? "");
  if (!/^[adhn]s\d+$/.test(id)) return document.createTextNode(shownTitle(item));
  return element("a", { href: `#/title/${encodeURIComponent(id)}`, text: shownTitle(item) });
}

function facts(answer, keys) {
  const rows = keys.flatMap((key) => {
    const value = key === "title" && answer.id ? titleLink(answer) : fieldText(key, answer[key], answer);
    return [element("dt", { text: label(key) }), element("dd", { "data-field": key }, value)];
  });
  return element("dl", {}, ...rows);
}

function isCardList(value) {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === "object";
}

function card(item, headingLevel = "h4") {
  const keys = Object.keys(item).filter((k) => !HIDDEN.has(k) && k !== "title");
  return element("li", { class: "card" }, element(headingLevel, {}, titleLink(item)), facts(item, keys));
}

function cards(items, headingLevel = "h4") {
  return element("ul", { class: "cards" }, ...items.map((item) => card(item, headingLevel)));
}

// --- query answers in words --------------------------------------------------------------------
const SENTENCES = {
  "/max-duration": (a, p) => `The longest ${p.duration_type === "season" ? "show" : "movie"}` +
    `${p.platform ? ` on ${platformName(a.platform)}` : " on any platform"}${p.year ? ` released in ${p.year}` : ""} is ` +
    `“${a.title}”: ${duration(a.duration_int, a.duration_type)}.`,
  "/score-count": (a) => `${plural(a.count, "movie")} on ${platformName(a.platform)} released in ${a.year} ` +
    `scored above ${a.scored}.`,
  "/count-platform": (a) => `${platformName(a.platform)} has ${plural(a.count, "movie")}.`,
  "/actor": (a) => `${capitalizeList(a.actor)} appears in the most titles on ${platformName(a.platform)}` +
    `${a.year ? ` released in ${a.year}` : ""}: ${plural(a.appearances, "title")}` +
    `${a.ties.length ? `, as many as ${a.ties.map(capitalizeList).join(", ")}` : ""}.`,
};

function spanishMessage(message) {
  return element("p", { class: "message", lang: "es" },
    element("span", { class: "label", lang: "en", text: "The API's answer (in Spanish): " }), message);
}

// Any answer: a sentence (ours, or the API's Spanish one), its fields labelled, its lists as cards.
function render(answer, path, params = {}) {
  const parts = [];
  if (SENTENCES[path]) parts.push(element("p", { class: "message", text: SENTENCES[path](answer, params) }));
  if (answer.message) parts.push(spanishMessage(answer.message));
  const keys = Object.keys(answer).filter((k) => !HIDDEN.has(k) && !isCardList(answer[k]) && k !== "other_matches");
  if (keys.length) parts.push(facts(answer, keys));
  for (const [key, value] of Object.entries(answer)) {
    if (isCardList(value)) parts.push(element("h4", { text: label(key) }), cards(value, "h5"));
  }
  return parts;
}

// Fields are checked before anything is sent: the first invalid one is named with the browser's reason.
function rejectInvalid(form, output) {
  if (form.checkValidity()) return false;
  const bad = $$("input, select", form).find((field) => !field.validity.valid);
  const name = bad.closest("label")?.firstChild?.textContent.trim() || bad.name;
  output.replaceChildren(element("p", { class: "error", role: "alert", text: `${name}: ${bad.validationMessage}` }));
  bad.focus();
  return true;
}

function formParams(form) {
  return Object.fromEntries(Array.from(new FormData(form)).filter(([, v]) => v !== ""));
}

async function submitQuery(event) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output)) return;
  const params = formParams(form);
  pending(output);
  try {
    output.replaceChildren(...render(await api(form.dataset.query, params), form.dataset.query, params));
  } catch (exc) {
    showQueryError(form, output, exc);
  }
}

// An answer refused with suggestions: each one a button that fills the field in and asks again.
function showQueryError(form, output, exc) {
  showError(output, exc, form);
  const field = exc.parameter && $(`[name="${CSS.escape(exc.parameter)}"]`, form);
  if (!field || !exc.suggestions.length) return;
  output.append(didYouMean(exc.suggestions, (s) => {
    const button = element("button", { type: "button", class: "link", text: s });
    button.addEventListener("click", () => { field.value = s; form.requestSubmit(); });
    return button;
  }));
}

// --- search: suggestions, the results list, its filters ---------------------------------------
const picked = new Map();          // a suggestion's text -> its title, for each datalist

function describe(item) {
  return `${shownTitle(item)} (${typeName(item.type)}, ${item.release_year}, ${platformsOf(item).join(", ")})`;
}

async function suggest(input, list, platform = "") {
  const q = input.value.trim();
  if (!q || picked.has(q)) return;
  try {
    const found = await api("/titles", { q, limit: 10, platform });
    list.replaceChildren(...found.items.map((item) => {
      picked.set(describe(item), item);
      return element("option", { value: describe(item) });
    }));
  } catch {
    list.replaceChildren();        // a half-typed query the API refuses offers no suggestion
  }
}

function suggestAsYouType(input, list, platformOf = () => "") {
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => suggest(input, list, platformOf()), 150);
  });
}

function submitSearch(event) {
  event.preventDefault();
  const form = event.target;
  const q = $("#search-q").value.trim();
  if (!q) return showError($("#search-results"), new Error("Type a title, or a few letters of one."));
  const choice = picked.get(q);
  if (choice) { location.hash = `#/title/${encodeURIComponent(choice.id)}`; return; }
  const query = new URLSearchParams({ q });
  if (form.platform.value) query.set("platform", form.platform.value);
  location.hash = `#/search?${query}`;
}

const FILTERS = ["platform", "type", "year_min", "year_max"];
const PAGE = 20;

// The results list: the API filters (platform, type, years) and pages (offset); the hash keeps the query.
async function showResults(params) {
  const target = $("#search-results");
  const q = params.get("q") || "";
  const chosen = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""]));
  $("#search-q").value = q;
  $("#search-form").platform.value = chosen.platform;
  pending(target);
  try {
    const found = await api("/titles", { q, ...chosen, limit: PAGE });
    if (!found.total && !(chosen.type || chosen.year_min || chosen.year_max || chosen.platform)) {
      return showNoMatch(target, q, found.suggestions);
    }
    target.replaceChildren(element("h3", { id: "results-h", text: `Titles matching “${q}”` }), filterForm(chosen),
      element("p", { id: "results-count", class: "message", role: "status" }),
      element("ul", { id: "results", class: "cards" }), element("div", { id: "results-more" }));
    showPage(found, { q, ...chosen });
  } catch (exc) {
    showError(target, exc);
  }
}

function showPage(found, query) {
  const list = $("#results");
  list.append(...found.items.map(resultCard));
  const shown = list.children.length;
  $("#results-count").textContent = found.total
    ? (shown < found.total ? `${number(shown)} of ${plural(found.total, "title")}.` : `${plural(found.total, "title")}.`)
    : "No title matches these filters.";
  const more = $("#results-more");
  more.replaceChildren();
  if (shown < found.total) {
    const button = element("button", { type: "button", text: `Show ${Math.min(PAGE, found.total - shown)} more` });
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        showPage(await api("/titles", { ...query, limit: PAGE, offset: shown }), query);
      } catch (exc) {
        showError(more, exc);
      }
    });
    more.append(button);
  }
}

// No match: the API's suggestions (the search's own, or those of a /similar lookup by title), as links.
async function showNoMatch(target, q, suggestions) {
  const offered = suggestions ?? await similarTitleSuggestions(q);
  const parts = [element("p", { class: "message", role: "alert", text: `No title matches “${q}”.` })];
  if (offered.length) {
    parts.push(didYouMean(offered, (s) => element("a", { href: `#/search?${new URLSearchParams({ q: s })}`, text: s })));
  } else {
    parts.push(element("p", { text: "Check the spelling, or try fewer letters." }));
  }
  target.replaceChildren(...parts);
}

async function similarTitleSuggestions(q) {
  try {
    const answer = await api("/similar", { title: q, n: 1 });
    return [shownTitle(answer.source)];
  } catch (exc) {
    return exc.suggestions || [];
  }
}

function filterForm(chosen) {
  const platforms = [["", "any"], ...catalog.platforms.map((p) => [p.code, platformName(p.name)])];
  const options = (pairs, picked = "") => pairs.map(([value, text]) =>
    element("option", value === picked ? { value, text, selected: "" } : { value, text }));
  const years = catalog.release_years;
  const year = (name, text) => element("label", {}, text, element("input", { name, type: "number", inputmode: "numeric",
    min: years.min, max: years.max, placeholder: String(name === "year_min" ? years.min : years.max),
    value: chosen[name] }));
  const form = element("form", { id: "filter-form", "aria-label": "Filter the results" },
    element("label", {}, "Platform ", element("select", { name: "platform" }, ...options(platforms, chosen.platform))),
    element("label", {}, "Type ", element("select", { name: "type" },
      ...options([["", "any"], ["movie", "Movie"], ["tv show", "TV show"]], chosen.type))),
    year("year_min", "Released from "), year("year_max", "Released until "),
    element("button", { text: "Apply" }));
  form.addEventListener("submit", (event) => { event.preventDefault(); searchWith(form); });
  form.addEventListener("change", (event) => event.target.tagName === "SELECT" && searchWith(form));
  return form;
}

// A filter asks the API again (the hash records it, so the list survives a reload and the back button).
function searchWith(form) {
  const query = new URLSearchParams({ q: $("#search-q").value.trim() });
  for (const [name, value] of new FormData(form)) if (String(value).trim()) query.set(name, String(value).trim());
  location.hash = `#/search?${query}`;
}

function resultCard(item) {
  return element("li", { class: "card" }, element("h4", {}, titleLink(item)),
    element("p", { text: `${typeName(item.type)} · ${item.release_year} · on ${platformsOf(item).join(", ")}` }),
    element("p", { class: "muted", text: scoreInWords(item.score, item.rating_count) }));
}

// --- a title's page ------------------------------------------------------------------------------
async function showTitle(id) {
  const page = $("#title-page");
  pending(page);
  try {
    const [title, similar] = await Promise.all([api(`/titles/${encodeURIComponent(id)}`),
      api("/similar", { title_id: id, n: 5 })]);
    page.replaceChildren(...titleHeader(title), titleFacts(title), ...similarCards(similar), predictForm(id));
    document.title = `${shownTitle(title)} · streamlens`;
    $("h2", page).focus();
  } catch (exc) {
    showError(page, exc);
  }
}

// Every platform the work is on (`available_on`: the same title, type and year), else its own platform.
function platformsOf(title) {
  const listed = title.available_on?.length ? title.available_on.map((p) => p.platform) : [title.platform];
  return listed.map(platformName);
}

function titleHeader(title) {
  const names = platformsOf(title);
  const where = element("p", { class: "where", "data-field": "platform" },
    `${typeName(title.type)} from ${title.release_year}, available on `,
    ...names.flatMap((name, k) => [k ? (k === names.length - 1 ? " and " : ", ") : "", element("strong", { text: name })]),
    ".");
  return [element("h2", { tabindex: "-1", text: shownTitle(title) }), where,
    element("p", { class: "message", "data-field": "score", text: scoreInWords(title.score, title.rating_count) }),
    title.display_description ? element("p", { class: "description", text: title.display_description }) : null]
    .filter(Boolean);
}

const TITLE_FACTS = [
  ["Length", (t) => duration(t.duration_int, t.duration_type)],
  ["Maturity", (t) => (t.rating ? `rated ${t.rating.toUpperCase()}` : "")],
  ["Genres", (t) => t.display_listed_in],
  ["Directed by", (t) => t.display_director],
  ["Cast", (t) => t.display_cast],
  ["Country", (t) => t.display_country],
  ["On the platform since", (t) => (t.date_added ? `added ${t.date_added}` : "")],
];

function titleFacts(title) {
  const rows = TITLE_FACTS.map(([name, text]) => [name, text(title)]).filter(([, text]) => text);
  return element("dl", { class: "facts" }, ...rows.flatMap(([name, text]) =>
    [element("dt", { text: name }), element("dd", { text })]));
}

// Names and places as the API gives them (lowercase), each word capitalized: "ben rossi, ana lund".
function capitalizeList(text) {
  return String(text).split(" ").map(capitalize).join(" ");
}

function similarCards(similar) {
  if (!similar.similar.length) return [element("h3", { text: "Similar titles" }), element("p", { text: "None found." })];
  return [element("h3", { text: "Similar titles" }), element("ul", { class: "cards similar" },
    ...similar.similar.map((s) => element("li", { class: "card" }, element("h4", {}, titleLink(s)),
      element("p", { text: `${s.release_year} · on ${platformName(s.platform)} · ${Math.round(s.similarity * 100)}% alike` }))))];
}

function predictForm(id) {
  const form = element("form", { id: "predict-form", novalidate: "", "aria-labelledby": "predict-h" },
    element("h3", { id: "predict-h", text: "Would a user like it?" }),
    element("label", {}, "User id ", element("input", { name: "user_id", type: "number", min: "1", step: "1", required: "" })),
    element("button", { text: "Predict" }), element("output"));
  form.addEventListener("submit", (event) => predictFor(event, id));
  return form;
}

function predictionInWords(answer) {
  const stars = answer.predicted_rating.toFixed(2);
  const verdict = answer.recommend ? "we recommend it" : "we do not recommend it";
  const place = answer.already_rated ? " They have rated it already." : answer.rank_on_platform
    ? ` It is number ${number(answer.rank_on_platform)} of their unrated titles on ${platformName(answer.platform)}.` : "";
  const guess = answer.cold_start
    ? `User ${answer.user_id} has no ratings yet: the title's expected rating is ${stars} out of 5`
    : `User ${answer.user_id} would rate it ${stars} out of 5`;
  return `${guess}, so ${verdict}.${place}`;
}

async function predictFor(event, titleId) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output)) return;
  pending(output);
  try {
    const answer = await api("/recommend", { user_id: form.user_id.value, title_id: titleId });
    output.replaceChildren(element("p", { class: "message", text: predictionInWords(answer) }));
  } catch (exc) {
    showError(output, exc, form);
  }
}

// --- for you: a user's top-n, a visitor's ratings ---------------------------------------------
function recommendationCard(item) {
  const reason = item.because_you_rated
    ? element("p", { class: "reason" }, "Because you rated ", titleLink(item.because_you_rated), ".")
    : element("p", { class: "reason", text: scoreInWords(item.score, item.rating_count) });
  const about = [item.type && typeName(item.type), item.release_year, `on ${platformName(item.platform)}`];
  return element("li", { class: "card" }, element("h4", {}, titleLink(item)),
    element("p", { text: capitalize(about.filter(Boolean).join(" · ")) }), reason);
}

function recommendationParts(answer, intro) {
  const lead = answer.cold_start && answer.message ? `${capitalize(answer.message)}.` : intro;
  if (!answer.items.length) return [element("p", { class: "message", text: `${lead} No title fits these filters.` })];
  return [element("p", { class: "message", text: lead }),
    element("ul", { class: "cards recommendations" }, ...answer.items.map(recommendationCard))];
}

function yearsInOrder(form, output) {
  const [from, until] = [form.year_min.value, form.year_max.value];
  if (!from || !until || Number(from) <= Number(until)) return true;
  output.replaceChildren(element("p", { class: "error", role: "alert", text: "Released from: must not be after Released until." }));
  return false;
}

async function recommend(event) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  if (rejectInvalid(form, output) || !yearsInOrder(form, output)) return;
  const { user_id: user, ...params } = formParams(form);
  pending(output);
  try {
    const answer = await api(`/users/${encodeURIComponent(user)}/recommendations`, params);
    output.replaceChildren(...recommendationParts(answer, `The ${plural(answer.items.length, "title")} user ${user} should like most:`));
  } catch (exc) {
    showError(output, exc, form);
  }
}

const visitorRatings = new Map();  // title id -> { title, rating }

async function addRating(event) {
  event.preventDefault();
  const form = event.target;
  const output = $("output", form);
  const q = form.q.value.trim();
  if (!q) return showError(output, new Error("Title: pick a title from the suggestions first."));
  let item = picked.get(q);
  if (!item) {
    const found = await api("/titles", { q, limit: 1 }).catch(() => ({ items: [] }));
    item = found.items[0];
    if (!item) return showError(output, new Error(`No title matches “${q}”.`));
  }
  visitorRatings.set(item.id, { item, rating: Number(form.rating.value) });
  form.q.value = "";
  output.replaceChildren();
  showRatings();
}

function showRatings() {
  const rows = Array.from(visitorRatings.values()).map(({ item, rating }) => {
    const remove = element("button", { type: "button", class: "link", "aria-label": `Remove ${shownTitle(item)}`, text: "Remove" });
    remove.addEventListener("click", () => { visitorRatings.delete(item.id); showRatings(); });
    return element("li", {}, titleLink(item), `: ${starsInWords(rating)} `, remove);
  });
  $("#visitor-ratings").replaceChildren(...(rows.length ? rows : [element("li", { text: "None yet." })]));
}

async function recommendForVisitor() {
  const form = $("#visitor-form");
  const output = $("output", form);
  if (!visitorRatings.size) return showError(output, new Error("Rate at least one title first."));
  if (!form.n.checkValidity()) return showError(output, new Error(`How many: ${form.n.validationMessage}`));
  const ratings = Array.from(visitorRatings, ([id, { rating }]) => ({ title_id: id, rating }));
  pending(output);
  try {
    const answer = await api("/recommendations", {}, { ratings, n: Number(form.n.value) });
    output.replaceChildren(...recommendationParts(answer,
      `From your ${plural(answer.rated, "rating")}, the ${plural(answer.items.length, "title")} you should like most:`));
  } catch (exc) {
    showError(output, exc, form);
  }
}

// --- set-up and navigation ---------------------------------------------------------------------
let catalog = { platforms: [], release_years: {} };

function fillChoices() {
  for (const select of $$("select[data-platforms]")) {
    const options = catalog.platforms.map((p) => element("option", { value: p.code, text: platformName(p.name) }));
    if (select.hasAttribute("data-optional")) options.unshift(element("option", { value: "", text: "any" }));
    select.replaceChildren(...options);
  }
  const [example] = catalog.example_titles ?? [];
  for (const input of $$("input[data-example-title]")) if (example) input.placeholder = `e.g. ${example}`;
  const movies = catalog.movie_examples ?? {};
  for (const input of $$("input[data-movie-example]")) {
    const value = movies[input.dataset.movieExample];
    if (value) input.placeholder = `e.g. ${value}`;
  }
  for (const input of $$("input[data-years]")) {
    Object.assign(input, { min: catalog.release_years.min, max: catalog.release_years.max,
      placeholder: `${catalog.release_years.min}–${catalog.release_years.max}` });
  }
  for (const select of $$("select[data-types]")) {
    select.replaceChildren(...[["", "any"], ["movie", "Movie"], ["tv show", "TV show"]]
      .map(([value, text]) => element("option", { value, text })));
  }
  for (const select of $$("select[data-stars]")) {
    select.replaceChildren(...Array.from({ length: 10 }, (_, k) => (10 - k) / 2).map((stars) =>
      element("option", { value: String(stars), text: starsInWords(stars) })));
  }
}

async function loadCatalog() {
  try {
    catalog = await api("/catalog");
    fillChoices();
  } catch (exc) {
    showError($("#status"), exc);
  }
}

async function loadReports() {
  try {
    const listing = await api("/reports");
    $("#report-list").replaceChildren(...listing.reports.map((r) => element("li", {},
      element("a", { href: new URL(r.path.replace(/^\//, ""), API).href, text: r.name }),
      ` (${r.content_type}, ${number(Math.ceil(r.size / 1024))} KB)`)));
  } catch (exc) {
    showError($("#report-list"), exc);
  }
}

// "#/title/ns1" -> { tab: "title", id: "ns1" }; old links without the slash ("#title/ns1") still work.
function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [first, ...rest] = decodeURIComponent(path).split("/");
  const aliases = { "": "home", search: "home", titles: "home", user: "for-you" };
  return { tab: aliases[first] ?? first, id: rest.join("/"), search: first === "search", params: new URLSearchParams(query) };
}

function showPanel(tab) {
  for (const panel of $$("[data-panel]")) panel.hidden = panel.dataset.panel !== tab;
  for (const link of $$("nav a")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function route() {
  const { tab, id, search, params } = parseHash();
  if (!$(`[data-panel="${CSS.escape(tab)}"]`)) {           // an in-page anchor (the skip link), not a route
    if (!$$("[data-panel]").some((panel) => !panel.hidden)) showPanel("home");
    return;
  }
  showPanel(tab);
  if (tab !== "title") document.title = "streamlens";
  await ready;
  if (tab === "title") showTitle(id);
  else if (tab === "home" && search) showResults(params);
  else if (tab === "home") $("#search-results").replaceChildren();
  else if (tab === "reports") loadReports();
}

let ready = null;

document.addEventListener("DOMContentLoaded", () => {
  $$("form[data-query]").forEach((form) => form.addEventListener("submit", submitQuery));
  $("#search-form").addEventListener("submit", submitSearch);
  suggestAsYouType($("#search-q"), $("#search-options"), () => $("#search-form").platform.value);
  suggestAsYouType($("#visitor-q"), $("#visitor-options"));
  $("#user-form").addEventListener("submit", recommend);
  $("#visitor-form").addEventListener("submit", addRating);
  $("#visitor-recommend").addEventListener("click", recommendForVisitor);
  showRatings();
  window.addEventListener("hashchange", route);
  ready = loadCatalog();
  route();
});
