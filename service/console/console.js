// The FAQ console: four views over the service's public JSON API, chosen by the URL's hash
// (#ask, #unanswered, #entries, #model). No framework and no build step: this file is served as
// it is. Text from the service only ever goes into the page through textContent.
"use strict";

const KEY_STORAGE = "faq-api-key";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE_SIZE = 20;
const IMPORT_BATCH_ROWS = 100;
const IMPORT_BATCH_BYTES = 1 << 20; // well under the service's default body limit (4 MiB)
const REASONS = {
  no_match: "No FAQ entry is close enough to this question.",
  ambiguous: "Several FAQ entries match about equally well; none stands out.",
  unhelpful: "Users said the answer they got did not help.",
};

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// ---- talking to the service -----------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details || [];
  }
}

let keyPrompt = null; // one prompt at a time; requests refused meanwhile wait for the same key

function askForKey(message) {
  if (keyPrompt) return keyPrompt;
  const dialog = $("#key-dialog");
  const form = $("#key-form");
  $("#key-message").textContent = message;
  form.reset();
  keyPrompt = new Promise((resolve) => {
    const finish = (key) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      if (dialog.open) dialog.close();
      keyPrompt = null;
      resolve(key);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      finish(form.key.value.trim() || null);
    };
    const onClose = () => finish(null);
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
  });
  dialog.showModal();
  return keyPrompt;
}

// A request to the service: JSON in and out, the key from this tab's session storage as Bearer.
// A 401 asks for the key (again, saying the last one was refused) and retries.
async function api(method, path, body) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, `The service cannot be reached (${err.message}).`);
    }
    if (response.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      const refused = key
        ? "The API key was refused (401 Unauthorized): it is not the service's FAQ_API_KEY."
        : "This needs the service's API key (401 Unauthorized).";
      const given = await askForKey(`${refused} Enter the key to go on.`);
      if (!given) throw new ApiError(401, refused);
      sessionStorage.setItem(KEY_STORAGE, given);
      continue;
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data && data.error;
      const message = error ? error.message : `${response.status} ${response.statusText}`;
      throw new ApiError(response.status, message, error && error.details);
    }
    return data;
  }
}

// ---- small page helpers ---------------------------------------------------------------------

function say(element, text, kind = "") {
  element.textContent = text;
  element.className = `status ${kind}`.trim();
  element.setAttribute("role", kind === "error" ? "alert" : "status");
}

function fill(root, values) {
  for (const [name, value] of Object.entries(values)) {
    const element = $(`[data-field="${name}"]`, root);
    if (element) element.textContent = value;
  }
}

function clone(templateId) {
  return $(`#${templateId}`).content.firstElementChild.cloneNode(true);
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const percent = (x) => `${Math.round(x * 100)}%`;
const orNone = (text) => (text === null || text === undefined || text === "" ? "—" : text);

function when(iso) {
  const node = element("time", new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
  node.dateTime = iso;
  return node;
}

async function busy(form, work) {
  const buttons = $$("button", form);
  buttons.forEach((b) => (b.disabled = true));
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    form.removeAttribute("aria-busy");
  }
}

// A verdict from `POST /ask`: services before the no-answer contract send no `answered`.
const isAnswered = (result) => result.answered !== false;

// ---- Ask ------------------------------------------------------------------------------------

function renderAnswer(question, answer, minConfidence) {
  const item = clone("answer-template");
  fill(item, {
    answer: answer.answer,
    question: orNone(answer.question),
    source: orNone(answer.source),
    matched: answer.matched === "question" ? "its FAQ question" : "its answer",
    score: answer.score.toFixed(3),
  });
  const confidence = $('[data-part="confidence"]', item);
  if (typeof answer.confidence === "number") {
    const meter = $("meter", confidence);
    meter.value = answer.confidence;
    if (typeof minConfidence === "number") meter.low = meter.high = minConfidence;
    meter.setAttribute("aria-label", "Confidence");
    fill(confidence, { confidence: percent(answer.confidence) });
  } else {
    confidence.remove();
  }
  const status = $(".feedback .status", item);
  for (const button of $$("[data-helpful]", item)) {
    button.addEventListener("click", async () => {
      const helpful = button.dataset.helpful === "true";
      try {
        await api("POST", "/feedback", { question, answer_id: answer.id, helpful });
        $$("[data-helpful]", item).forEach((b) => {
          b.setAttribute("aria-pressed", String(b === button));
        });
        say(status, helpful ? "Recorded: helpful." : "Recorded: not helpful.", "ok");
      } catch (err) {
        say(status, `Not recorded: ${err.message}`, "error");
      }
    });
  }
  return item;
}

function renderVerdict(verdict, result) {
  const best = result.answers[0];
  if (isAnswered(result) && best) {
    const sure = typeof best.confidence === "number" ? ` (confidence ${percent(best.confidence)})` : "";
    verdict.textContent = `Answered${sure}: the service gives the first answer below.`;
    verdict.className = "verdict answered";
  } else {
    const why = REASONS[result.reason] || (result.reason ? `Reason: ${result.reason}.` : "No entry matches.");
    const rest = result.answers.length ? " The nearest entries are below, as suggestions only." : "";
    verdict.textContent = `Abstained: the service gives no answer. ${why}${rest}`;
    verdict.className = "verdict abstained";
  }
}

async function onAsk(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $("#view-ask > .status");
  const question = form.question.value.trim();
  if (!question) return;
  const body = { question, top_k: Math.min(20, Math.max(1, Number(form.top_k.value) || 3)) };
  if (form.source.value.trim()) body.filter = { source: form.source.value.trim() };
  say(status, "Asking…");
  await busy(form, async () => {
    try {
      const result = await api("POST", "/ask", body);
      renderVerdict($("#ask-verdict"), result);
      $("#ask-answers").replaceChildren(
        ...result.answers.map((a) => renderAnswer(question, a, result.min_confidence)),
      );
      $("#ask-result").hidden = false;
      say(status, "");
    } catch (err) {
      say(status, `Could not ask: ${err.message}`, "error");
    }
  });
}

// ---- Unanswered -----------------------------------------------------------------------------

function groupMeta(group) {
  const meta = document.createDocumentFragment();
  const times = group.count === 1 ? "once" : `${group.count} times`;
  meta.append(`Asked ${times}, first `, when(group.first_seen), ", last ", when(group.last_seen));
  const reasons = Object.entries(group.reasons || {})
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name.replace("_", " ")} ${n}`);
  if (reasons.length) meta.append(` · ${reasons.join(", ")}`);
  if (group.resolved) meta.append(" · answered since");
  return meta;
}

async function recheck(group, newId, list, status) {
  list.replaceChildren();
  let answered = 0;
  for (const question of group.questions) {
    const result = await api("POST", "/ask", { question, top_k: 1 });
    const best = result.answers[0];
    const ok = isAnswered(result) && best;
    answered += ok ? 1 : 0;
    const by = ok ? (best.id === newId ? "by the new entry" : `by “${orNone(best.question)}”`) : "";
    const line = ok ? `Answered ${by}: ${question}` : `Still not answered: ${question}`;
    list.append(element("li", line, ok ? "ok" : "error"));
  }
  say(status, `Saved. ${answered} of ${group.questions.length} questions of this group are now answered.`,
    answered === group.questions.length ? "ok" : "error");
}

function renderGroup(group) {
  const item = clone("group-template");
  fill(item, { title: group.questions[0] || "(no question)" });
  $('[data-field="meta"]', item).append(groupMeta(group));
  const candidate = $('[data-field="candidate"]', item);
  if (group.best_candidate) {
    const view = element("button", "the closest entry", "link");
    view.type = "button";
    view.addEventListener("click", () => openEntry(group.best_candidate.id));
    candidate.append("Closest: ", view, ` (confidence ${percent(group.best_candidate.confidence)})`);
  } else {
    candidate.remove();
  }
  $(".examples", item).append(...group.questions.slice(0, 5).map((q) => element("li", q)));
  const write = $('[data-part="write"]', item);
  const form = $(".answer-form", item);
  const status = $(":scope > .status", item);
  write.addEventListener("click", () => {
    form.hidden = false;
    write.hidden = true;
    form.question.value = group.questions[0] || "";
    form.answer.focus();
  });
  $('[data-part="cancel"]', item).addEventListener("click", () => {
    form.hidden = true;
    write.hidden = false;
    write.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form, async () => {
      const entry = { question: form.question.value.trim(), answer: form.answer.value.trim() };
      if (form.source.value.trim()) entry.source = form.source.value.trim();
      try {
        say(status, "Saving…");
        const { ids } = await api("POST", "/answers", { entries: [entry] });
        form.hidden = true;
        say(status, "Saved. Asking this group's questions again…");
        await recheck(group, ids[0], $(".recheck", item), status);
      } catch (err) {
        say(status, `Not saved: ${err.message}`, "error");
      }
    });
  });
  return item;
}

// A view's loads are asynchronous, and a slower response must never overwrite a newer one (the
// all-sources page arriving after the user chose a source, say). Each load takes the view's next
// ticket and renders its response, or its error, only while that ticket is still the latest.
const tickets = {};

function ticket(view) {
  const mine = (tickets[view] = (tickets[view] ?? 0) + 1);
  return () => tickets[view] === mine;
}

async function showUnanswered() {
  const status = $("#view-unanswered > .status");
  const list = $("#groups");
  const current = ticket("unanswered");
  say(status, "Loading…");
  try {
    const { groups } = await api("GET", "/unanswered");
    if (!current()) return;
    // Open groups first, biggest first; the sort is stable, so the service's order breaks ties.
    groups.sort((a, b) => Number(a.resolved) - Number(b.resolved) || b.count - a.count);
    list.replaceChildren(...groups.map(renderGroup));
    const open = groups.filter((g) => !g.resolved).length;
    const since = groups.length > open ? `, ${groups.length - open} answered since` : "";
    say(status, groups.length ? `${open} open groups${since}.` : "Nothing unanswered.");
  } catch (err) {
    if (!current()) return;
    list.replaceChildren();
    const hint = err.status === 404 ? " (this service has no GET /unanswered)" : "";
    say(status, `Could not load the unanswered questions: ${err.message}${hint}`, "error");
  }
}

// ---- Entries --------------------------------------------------------------------------------

const entries = { source: "", offsets: [null], page: 0, next: null, query: "" };

function entryRow(entry) {
  const row = document.createElement("tr");
  const open = element("button", entry.question || "(answer only)", "link");
  open.type = "button";
  open.addEventListener("click", () => openEntry(entry.id, entry));
  const first = document.createElement("td");
  first.append(open);
  const answer = document.createElement("td");
  answer.append(element("div", entry.answer, "clip"));
  row.append(first, answer, element("td", orNone(entry.source)));
  return row;
}

async function loadSources() {
  const select = $("#entries-source");
  const { total, sources } = await api("GET", "/sources");
  const options = [new Option(`All sources (${total})`, "")];
  for (const { source, count } of sources) options.push(new Option(`${source} (${count})`, source));
  select.replaceChildren(...options);
  select.value = sources.some((s) => s.source === entries.source) ? entries.source : "";
  entries.source = select.value;
}

async function loadPage() {
  const current = ticket("entries");
  const { source, page: number } = entries;
  const status = $("#view-entries > .status");
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (source) params.set("source", source);
  const offset = entries.offsets[number];
  if (offset) params.set("offset", offset);
  try {
    const page = await api("GET", `/answers?${params}`);
    if (!current()) return;
    entries.next = page.next_offset;
    $("#entries-table tbody").replaceChildren(...page.entries.map(entryRow));
    const first = number * PAGE_SIZE + 1;
    const scope = source ? `source ${source}` : "all sources";
    $("#entries-caption").textContent = page.entries.length
      ? `Entries ${first}–${first + page.entries.length - 1}, ${scope}`
      : `No entries, ${scope}`;
    $("#entries-prev").disabled = entries.page === 0;
    $("#entries-next").disabled = !entries.next;
    $(".pager").hidden = false;
    $("#entries-clear").hidden = true;
  } catch (err) {
    if (!current()) return;
    say(status, `Could not list the entries: ${err.message}`, "error");
  }
}

async function showEntries() {
  try {
    await loadSources();
  } catch (err) {
    say($("#view-entries > .status"), `Could not count the entries: ${err.message}`, "error");
  }
  if (entries.query) await search(entries.query);
  else await loadPage();
}

function restart() {
  entries.offsets = [null];
  entries.page = 0;
  entries.query = "";
  return showEntries();
}

async function search(query) {
  const status = $("#view-entries > .status");
  const current = ticket("entries");
  const body = { question: query, top_k: PAGE_SIZE };
  if (entries.source) body.filter = { source: entries.source };
  try {
    const result = await api("POST", "/ask", body);
    if (!current()) return;
    $("#entries-table tbody").replaceChildren(...result.answers.map(entryRow));
    $("#entries-caption").textContent = `The ${result.answers.length} entries nearest to “${query}”, best first`;
    $(".pager").hidden = true;
    $("#entries-clear").hidden = false;
  } catch (err) {
    if (!current()) return;
    say(status, `Could not search: ${err.message}`, "error");
  }
}

// The entry dialog: view an entry, edit it, delete it, or add a new one. It opens from the
// Entries view, and from a group's closest entry in the Unanswered view.
const dialogState = { entry: null };

function entryDialogMode(mode) {
  const dialog = $("#entry-dialog");
  $("#entry-view", dialog).hidden = mode !== "view";
  $("#entry-form", dialog).hidden = mode === "view";
  $("#entry-confirm", dialog).hidden = true;
  $("#entry-title").textContent = { view: "Entry", edit: "Edit the entry", add: "Add an entry" }[mode];
  say($(":scope > .status", dialog), "");
}

async function openEntry(id, known) {
  const dialog = $("#entry-dialog");
  entryDialogMode("view");
  let entry = known;
  if (!entry) {
    try {
      entry = await api("GET", `/answers/${encodeURIComponent(id)}`);
    } catch (err) {
      if (!dialog.open) dialog.showModal();
      say($(":scope > .status", dialog), `Could not open the entry: ${err.message}`, "error");
      return;
    }
  }
  dialogState.entry = entry;
  fill($("#entry-view"), {
    question: orNone(entry.question),
    answer: entry.answer,
    source: orNone(entry.source),
    id: entry.id,
  });
  if (!dialog.open) dialog.showModal();
  $("#entry-edit").focus();
}

function openForm(entry) {
  const form = $("#entry-form");
  dialogState.entry = entry;
  entryDialogMode(entry ? "edit" : "add");
  form.question.value = entry ? entry.question || "" : "";
  form.answer.value = entry ? entry.answer : "";
  form.source.value = entry ? entry.source || "" : "";
  $("#entry-form-hint").textContent = entry
    ? "Saving adds the edited entry and deletes this one: an entry's id comes from its content."
    : "";
  if (!$("#entry-dialog").open) $("#entry-dialog").showModal();
  form.question.focus();
}

async function saveEntry(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $("#entry-dialog > .status");
  const old = dialogState.entry;
  const entry = { answer: form.answer.value.trim() };
  if (form.question.value.trim()) entry.question = form.question.value.trim();
  if (form.source.value.trim()) entry.source = form.source.value.trim();
  // An id given by a data file (not a UUID derived from the content) stays: replaced in place.
  if (old && !UUID.test(old.id)) entry.id = old.id;
  await busy(form, async () => {
    let newId;
    try {
      ({ ids: [newId] } = await api("POST", "/answers", { entries: [entry] }));
    } catch (err) {
      say(status, `Not saved: ${err.message}`, "error");
      return;
    }
    let message = `Entry added (id ${newId}).`;
    if (old && newId !== old.id) {
      try {
        await api("DELETE", `/answers/${encodeURIComponent(old.id)}`);
        message = `Entry saved as ${newId}; the old one (${old.id}) is deleted.`;
      } catch (err) {
        say(status, `Saved as ${newId}, but the old entry was not deleted: ${err.message}`, "error");
        return;
      }
    } else if (old) {
      message = `Entry ${newId} saved.`;
    }
    $("#entry-dialog").close();
    await afterChange(message);
  });
}

// After the dialog changed the FAQ: say so in the view it was opened from, and show the change.
async function afterChange(message) {
  say($(`#view-${current} > .status`), message, "ok");
  if (current === "entries") await showEntries();
}

async function deleteEntry() {
  const entry = dialogState.entry;
  const status = $("#entry-dialog > .status");
  try {
    await api("DELETE", `/answers/${encodeURIComponent(entry.id)}`);
  } catch (err) {
    say(status, `Not deleted: ${err.message}`, "error");
    return;
  }
  $("#entry-dialog").close();
  await afterChange(`Deleted the entry “${entry.question || entry.answer}”.`);
}

// ---- import ---------------------------------------------------------------------------------

// RFC 4180 CSV, as Python's csv module reads it (strict): records with the line each starts on.
// A quote opens a quoted value only at its start; text after a closing quote is an error.
function parseCsv(text) {
  const records = [];
  let cells = [];
  let cell = "";
  let quoted = false; // inside quotes
  let closed = false; // the current value was quoted and its quote is closed
  let line = 1;
  let start = 1;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
        closed = true;
      } else {
        if (c === "\n") line++;
        cell += c;
      }
    } else if (c === ",") {
      cells.push(cell);
      cell = "";
      closed = false;
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (c === "\r") i++;
      cells.push(cell);
      records.push({ line: start, cells });
      cells = [];
      cell = "";
      closed = false;
      start = ++line;
    } else if (closed) {
      return { records, error: { line: start, reason: "invalid CSV: text after a closing quote" } };
    } else if (c === '"' && cell === "") {
      quoted = true;
    } else {
      cell += c;
    }
  }
  if (quoted) return { records, error: { line: start, reason: "invalid CSV: a quoted value is never closed" } };
  if (cell !== "" || cells.length || closed) {
    cells.push(cell);
    records.push({ line: start, cells });
  }
  return { records, error: null };
}

// The rows of a data file as entries to post: {line, entry} or {line, reason} for a row refused
// before sending. Extra fields are what faq-index keeps and POST /answers does not take.
function readRows(name, text) {
  const rows = [];
  const extra = new Set();
  const toEntry = (line, fields) => {
    const entry = {};
    for (const [key, value] of Object.entries(fields)) {
      if (key === "answer" || key === "id") entry[key] = value;
      else if (key === "question" || key === "source") {
        if (!(typeof value === "string" && !value.trim()) && value !== null) entry[key] = value;
      } else extra.add(key);
    }
    rows.push({ line, entry });
  };
  if (/\.csv$/i.test(name)) {
    const { records, error } = parseCsv(text);
    const [header, ...data] = records;
    const names = header ? header.cells.map((n) => n.trim()) : [];
    if (!names.includes("answer")) return { rows, extra, fatal: "the header has no 'answer' column" };
    if (new Set(names).size !== names.length || names.includes("")) {
      return { rows, extra, fatal: "the header has an empty or repeated column name" };
    }
    for (const { line, cells } of data) {
      if (!cells.some((c) => c.trim())) continue;
      if (cells.length !== names.length) {
        rows.push({ line, reason: `the row has ${cells.length} values, the header ${names.length} columns` });
        continue;
      }
      const fields = {};
      names.forEach((n, i) => {
        if (cells[i].trim() || n === "answer") fields[n] = cells[i];
      });
      toEntry(line, fields);
    }
    if (error) rows.push({ line: error.line, reason: `${error.reason}; the rest of the file was not read` });
  } else {
    text.split("\n").forEach((raw, index) => {
      if (!raw.trim()) return;
      let value;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        rows.push({ line: index + 1, reason: `invalid JSON: ${err.message}` });
        return;
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        rows.push({ line: index + 1, reason: "expected a JSON object" });
        return;
      }
      toEntry(index + 1, value);
    });
  }
  return { rows, extra, fatal: null };
}

function fieldError(detail) {
  const field = detail.loc[detail.loc.length - 1];
  if (detail.type === "missing") return `${field}: is missing`;
  if (detail.type === "string_too_short") return `${field}: is empty`;
  return `${field}: ${detail.msg}`;
}

// Post rows in batches. A batch the service refuses (422) names the rows at fault: they are
// reported, and the rest of the batch is sent again.
async function postRows(rows, refused, progress) {
  let added = 0;
  let batch = [];
  let bytes = 0;
  const send = async (part) => {
    try {
      await api("POST", "/answers", { entries: part.map((r) => r.entry) });
      added += part.length;
    } catch (err) {
      const bad = new Map();
      for (const detail of err.details) {
        const [where, what, index] = detail.loc;
        if (where === "body" && what === "entries" && part[Number(index)]) bad.set(Number(index), fieldError(detail));
      }
      if (err.status === 422 && bad.size) {
        bad.forEach((reason, index) => refused.push({ line: part[index].line, reason }));
        const rest = part.filter((_, index) => !bad.has(index));
        if (rest.length) await send(rest);
      } else if (err.status === 413 && part.length > 1) {
        await send(part.slice(0, part.length >> 1));
        await send(part.slice(part.length >> 1));
      } else {
        part.forEach((r) => refused.push({ line: r.line, reason: err.message }));
        if (err.status !== 422 && err.status !== 413) throw err;
      }
    }
    progress(added);
  };
  for (const row of rows) {
    const size = JSON.stringify(row.entry).length;
    if (batch.length && (batch.length >= IMPORT_BATCH_ROWS || bytes + size > IMPORT_BATCH_BYTES)) {
      await send(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(row);
    bytes += size;
  }
  if (batch.length) await send(batch);
  return added;
}

async function onImport(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = $(".import > .status");
  const report = $("#import-report");
  const file = form.file.files[0];
  if (!file) return;
  report.hidden = true;
  await busy(form, async () => {
    const { rows, extra, fatal } = readRows(file.name, await file.text());
    if (fatal) {
      say(status, `${file.name}: ${fatal}. Nothing was imported.`, "error");
      return;
    }
    const refused = rows.filter((r) => r.reason);
    const sendable = rows.filter((r) => r.entry);
    const total = rows.length;
    let added = 0;
    let stopped = "";
    try {
      added = await postRows(sendable, refused, (n) => say(status, `Importing… ${n} of ${sendable.length} rows sent.`));
    } catch (err) {
      stopped = ` Stopped: ${err.message}`;
    }
    refused.sort((a, b) => a.line - b.line);
    $("tbody", report).replaceChildren(
      ...refused.map((r) => {
        const tr = document.createElement("tr");
        tr.append(element("td", String(r.line)), element("td", r.reason));
        return tr;
      }),
    );
    report.hidden = !refused.length;
    const ignored = extra.size ? ` Columns kept only by faq-index, not imported here: ${[...extra].join(", ")}.` : "";
    say(status, `${file.name}: ${added} of ${total} rows imported, ${refused.length} refused.${ignored}${stopped}`,
      refused.length || stopped ? "error" : "ok");
    if (added) await restart();
  });
}

// ---- Model ----------------------------------------------------------------------------------

const PLOTS = {
  score_distribution: "Scores of first answers, right and wrong, with the threshold",
  reliability_diagram: "Reliability: confidence against how often the answer was right",
  training_curves: "Training curves of the head",
  encoder_curves: "Training curves of the encoder",
};

function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  const row = document.createElement("div");
  row.append(element("dt", name), element("dd", String(value)));
  list.append(row);
}

const MEASURES = [
  ["ask", "precision_at_1", "Ask: precision@1"],
  ["ask", "mrr", "Ask: MRR"],
  ["pool", "precision_at_1", "Pool: precision@1"],
  ["pool", "mrr", "Pool: MRR"],
];

// One row per measure, the untuned and tuned models side by side.
function metricRows(metrics) {
  return MEASURES.map(([protocol, key, name]) => {
    const row = document.createElement("tr");
    row.append(element("th", name));
    row.lastChild.scope = "row";
    for (const model of [metrics.untuned, metrics.tuned]) {
      const value = model && model[protocol] && model[protocol][key];
      row.append(element("td", typeof value === "number" ? value.toFixed(3) : "—"));
    }
    return row;
  });
}

function operatingPoint(manifest) {
  const confidence = manifest.confidence || {};
  const threshold = manifest.threshold || (manifest.metrics || {}).threshold;
  const parts = [];
  if (typeof confidence.min_confidence === "number") {
    parts.push(`The service answers when its confidence is at least ${percent(confidence.min_confidence)}; below that it abstains.`);
  }
  if (threshold && typeof threshold.score === "number") {
    parts.push(`A first answer scoring at least ${threshold.score.toFixed(3)} was right ${percent(threshold.precision)} of the time on validation, and ${percent(threshold.coverage)} of the questions scored that high.`);
  }
  return parts.join(" ") || "This servable records no operating point.";
}

// How the confidence model decided on validation questions, as faq-train measured it (issue 20):
// shares are shown as percentages, calibration errors as they are.
function confidenceFacts(list, measured) {
  list.replaceChildren();
  for (const [name, value] of Object.entries(measured || {})) {
    if (typeof value !== "number") continue;
    const shown = name === "ece" ? value.toFixed(3) : percent(value);
    fact(list, name === "ece" ? "calibration error (ECE)" : name.replaceAll("_", " "), shown);
  }
}

async function showModel() {
  const status = $("#view-model > .status");
  say(status, "Loading…");
  let manifest;
  try {
    manifest = await api("GET", "/manifest");
  } catch (err) {
    say(status, `Could not load the model card: ${err.message}`, "error");
    return;
  }
  say(status, "");
  const facts = $("#model-facts");
  facts.replaceChildren();
  const metrics = manifest.metrics || {};
  const training = manifest.training || {};
  const index = manifest.index || {};
  fact(facts, "Base model", manifest.base_model);
  fact(facts, "Servable", manifest.model_id);
  fact(facts, "Trained", manifest.created_at);
  fact(facts, "How", training.method);
  fact(facts, "Training pairs", metrics.train_pairs);
  fact(facts, "Validation pairs", metrics.val_pairs);
  fact(facts, "Answers encoded with", (manifest.answer_context || []).join(", "));
  fact(facts, "Index", index.collection && `${index.collection}, version ${orNone(index.version)}`);
  fact(facts, "Entries", index.entries);
  $("#model-metrics tbody").replaceChildren(...metricRows(metrics));
  $("#model-operating").textContent = operatingPoint(manifest);
  const measured = metrics.confidence || {};
  confidenceFacts($("#model-confidence"), measured.open_set);
  $("#model-confidence-protocol").textContent = measured.protocol
    ? `How the service decided on validation questions (${measured.protocol}):`
    : "";
  const plots = $("#model-plots");
  plots.replaceChildren();
  for (const name of manifest.plots || []) {
    const caption = PLOTS[name] || name;
    const figure = document.createElement("figure");
    const link = element("a");
    link.href = `/model/plots/${name}.png`;
    const image = new Image();
    image.alt = caption;
    image.src = link.href;
    link.append(image);
    figure.append(link, element("figcaption", caption));
    plots.append(figure);
  }
  if (!plots.children.length) plots.append(element("p", "This servable has no plots."));
  $("#model-manifest").textContent = JSON.stringify(manifest, null, 2);
  $("#model-card").hidden = false;
}

// ---- views and wiring -----------------------------------------------------------------------

const VIEWS = {
  ask: { title: "Ask", show: () => $("#ask-question").focus() },
  unanswered: { title: "Unanswered", show: showUnanswered },
  entries: { title: "Entries", show: showEntries },
  model: { title: "Model", show: showModel },
};

let current = null; // the view shown

function route(initial) {
  const asked = location.hash.slice(1);
  if (!(asked in VIEWS) && current) return; // an anchor in the page (the skip link), not a view
  const name = asked in VIEWS ? asked : "ask";
  current = name;
  for (const id of Object.keys(VIEWS)) $(`#view-${id}`).hidden = id !== name;
  for (const link of $$("nav[aria-label=Views] a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${VIEWS[name].title} · FAQ console`;
  if (!initial && name !== "ask") $(`#${name}-title`).focus();
  VIEWS[name].show();
}

document.addEventListener("DOMContentLoaded", () => {
  $("#ask-form").addEventListener("submit", onAsk);
  $("#unanswered-refresh").addEventListener("click", showUnanswered);
  $("#entries-source").addEventListener("change", (event) => {
    entries.source = event.currentTarget.value;
    restart();
  });
  $("#entries-search").addEventListener("submit", (event) => {
    event.preventDefault();
    entries.query = event.currentTarget.q.value.trim();
    if (entries.query) search(entries.query);
    else restart();
  });
  $("#entries-clear").addEventListener("click", () => {
    $("#entries-search").reset();
    restart();
  });
  $("#entries-prev").addEventListener("click", () => {
    entries.page = Math.max(0, entries.page - 1);
    loadPage();
  });
  $("#entries-next").addEventListener("click", () => {
    if (!entries.next) return;
    entries.offsets[entries.page + 1] = entries.next;
    entries.page += 1;
    loadPage();
  });
  $("#entry-add").addEventListener("click", () => openForm(null));
  $("#entry-edit").addEventListener("click", () => openForm(dialogState.entry));
  $("#entry-delete").addEventListener("click", () => {
    $("#entry-confirm").hidden = false;
    $("#entry-delete-yes").focus();
  });
  $("#entry-delete-yes").addEventListener("click", deleteEntry);
  $("#entry-delete-no").addEventListener("click", () => {
    $("#entry-confirm").hidden = true;
    $("#entry-delete").focus();
  });
  $("#entry-form").addEventListener("submit", saveEntry);
  $("#import-form").addEventListener("submit", onImport);
  for (const button of $$("[data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }
  window.addEventListener("hashchange", () => route(false));
  route(true);
});
