// The Entries view: browse the FAQ by source a page at a time, search it by meaning, and import
// a file (POST /import: every format faq-index reads); and the entry dialog, which views, edits, adds and deletes an entry
// and its alternate phrasings (it opens from the Unanswered view too).
import {
  $,
  $$,
  ApiError,
  api,
  busy,
  element,
  fill,
  orNone,
  part,
  plural,
  quoted,
  say,
  shown,
  ticket,
} from "./shared.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE_SIZE = 20;

// Questions that differ only in case and spacing are the same question, as the service says
// (faq_core.entries.question_key).
const questionKey = (text) => text.split(/\s+/).filter(Boolean).join(" ").toLowerCase();

// An entry's alternate phrasings: its questions after the FAQ question (an entry without one
// may still have phrasings added to it).
const alternates = (entry) => (entry.question == null ? entry.questions || [] : (entry.questions || []).slice(1));

// ---- the list -------------------------------------------------------------------------------

const entries = { source: "", offsets: [null], page: 0, next: null, query: "" };
const status = () => $("#view-entries > .status");

function entryRow(entry) {
  const row = document.createElement("tr");
  const open = element("button", entry.question || "(answer only)", "link");
  open.type = "button";
  open.addEventListener("click", () => openEntry(entry.id));
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
    $("#view-entries .pager").hidden = false;
    $("#entries-clear").hidden = true;
  } catch (err) {
    if (!current()) return;
    say(status(), `Could not list the entries: ${err.message}`, "error");
  }
}

export async function show() {
  try {
    await loadSources();
  } catch (err) {
    say(status(), `Could not count the entries: ${err.message}`, "error");
  }
  if (entries.query) await search(entries.query);
  else await loadPage();
}

function restart() {
  entries.offsets = [null];
  entries.page = 0;
  entries.query = "";
  return show();
}

async function search(query) {
  const current = ticket("entries");
  const body = { question: query, top_k: PAGE_SIZE };
  if (entries.source) body.filter = { source: entries.source };
  try {
    const result = await api("POST", "/ask", body);
    if (!current()) return;
    $("#entries-table tbody").replaceChildren(...result.answers.map(entryRow));
    $("#entries-caption").textContent = `The ${result.answers.length} entries nearest to “${query}”, best first`;
    $("#view-entries .pager").hidden = true;
    $("#entries-clear").hidden = false;
  } catch (err) {
    if (!current()) return;
    say(status(), `Could not search: ${err.message}`, "error");
  }
}

// ---- the entry dialog -------------------------------------------------------------------------

// The entry shown or edited (null while adding one).
const dialogState = { entry: null };
const dialog = $("#entry-dialog");
const dialogStatus = () => $(":scope > .status", dialog);

function entryDialogMode(mode) {
  $("#entry-view", dialog).hidden = mode !== "view";
  $("#entry-form", dialog).hidden = mode === "view";
  $("#entry-confirm", dialog).hidden = true;
  $("#entry-title").textContent = { view: "Entry", edit: "Edit the entry", add: "Add an entry" }[mode];
  say(dialogStatus(), "");
}

// The entry as the service has it now: a list's copy may lack phrasings added since (by the
// Suggestions view, another tab, another client).
export async function openEntry(id) {
  const current = ticket("dialog");
  entryDialogMode("view");
  let entry;
  try {
    entry = await api("GET", `/answers/${part(id)}`);
  } catch (err) {
    if (!current()) return;
    if (!dialog.open) dialog.showModal();
    say(dialogStatus(), `Could not open the entry: ${err.message}`, "error");
    return;
  }
  if (!current()) return;
  showEntry(entry);
  $("#entry-phrasing-form").reset();
  if (!dialog.open) dialog.showModal();
  $("#entry-edit").focus();
}

function showEntry(entry) {
  dialogState.entry = entry;
  fill($("#entry-view"), {
    question: orNone(entry.question),
    answer: entry.answer,
    source: orNone(entry.source),
    id: entry.id,
  });
  const phrasings = alternates(entry);
  $("#entry-phrasings").replaceChildren(...phrasings.map(phrasingItem));
  $("#entry-phrasings-none").hidden = phrasings.length > 0;
}

function phrasingItem(text) {
  const item = document.createElement("li");
  const remove = element("button", "Remove", "secondary small");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove ${quoted(text)}`);
  remove.addEventListener("click", () => removePhrasing(text, item));
  item.append(element("span", text), remove);
  return item;
}

async function removePhrasing(text, item) {
  const entry = dialogState.entry;
  const index = $$("#entry-phrasings > li").indexOf(item);
  try {
    await api("DELETE", `/answers/${part(entry.id)}/questions/${part(text)}`);
  } catch (err) {
    if (err.code === "phrasing_not_found") await openEntry(entry.id); // gone already: show what is
    say(dialogStatus(), `Not removed: ${err.message}`, "error");
    return;
  }
  showEntry({ ...entry, questions: entry.questions.filter((q) => q !== text) });
  say(dialogStatus(), `Removed ${quoted(text)}: the entry no longer matches it.`, "ok");
  // Focus goes on to the phrasing that took its place, else to the field that adds one.
  const removes = $$("#entry-phrasings button");
  (removes[Math.min(index, removes.length - 1)] || $("#entry-phrasing-form").phrasing).focus();
}

async function addPhrasing(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const text = form.phrasing.value.trim();
  if (!text) return;
  const entry = dialogState.entry;
  await busy(form, async () => {
    try {
      showEntry(await api("POST", `/answers/${part(entry.id)}/questions`, { questions: [text] }));
    } catch (err) {
      say(dialogStatus(), `Not added: ${err.message}`, "error");
      return;
    }
    form.reset();
    say(dialogStatus(), `Added ${quoted(text)}: the entry matches it from now on.`, "ok");
  });
  form.phrasing.focus();
}

function openForm(entry) {
  const form = $("#entry-form");
  dialogState.entry = entry;
  entryDialogMode(entry ? "edit" : "add");
  form.question.value = entry ? entry.question || "" : "";
  form.phrasings.value = entry ? alternates(entry).join("\n") : "";
  form.answer.value = entry ? entry.answer : "";
  form.source.value = entry ? entry.source || "" : "";
  // An id derived from the content changes with the question, answer or source (not with the
  // phrasings); one a data file gave stays.
  $("#entry-form-hint").textContent = entry && UUID.test(entry.id)
    ? "Changing the question, answer or source saves it as a new entry and deletes this one: an entry's id comes from its content."
    : "";
  if (!dialog.open) dialog.showModal();
  form.question.focus();
}

const lines = (text) => text.split(/\r\n|\n|\r/).map((l) => l.trim()).filter(Boolean);

async function saveEntry(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const old = dialogState.entry;
  const question = form.question.value.trim();
  const phrasings = lines(form.phrasings.value);
  if (phrasings.length && !question) {
    say(dialogStatus(), "Give the FAQ question too: alternate phrasings are phrasings of it.", "error");
    form.question.focus();
    return;
  }
  const entry = { answer: form.answer.value.trim() };
  if (question) entry.questions = [question, ...phrasings];
  if (form.source.value.trim()) entry.source = form.source.value.trim();
  // An id given by a data file (not a UUID derived from the content) stays: replaced in place.
  if (old && !UUID.test(old.id)) entry.id = old.id;
  await busy(form, async () => {
    let newId;
    try {
      ({ ids: [newId] } = await api("POST", "/answers", { entries: [entry] }));
    } catch (err) {
      say(dialogStatus(), `Not saved: ${err.message}`, "error");
      return;
    }
    let message = `Entry added (id ${newId}).`;
    if (old && newId !== old.id) {
      try {
        await api("DELETE", `/answers/${part(old.id)}`);
        message = `Entry saved as ${newId}; the old one (${old.id}) is deleted.`;
      } catch (err) {
        say(dialogStatus(), `Saved as ${newId}, but the old entry was not deleted: ${err.message}`, "error");
        return;
      }
    } else if (old) {
      try {
        await dropRemoved(newId, phrasings);
      } catch (err) {
        say(dialogStatus(), `Saved, but not every phrasing taken out was removed: ${err.message}`, "error");
        return;
      }
      message = `Entry ${newId} saved.`;
    }
    dialog.close();
    await afterChange(message);
  });
}

// Posting an entry again replaces the phrasings it came with, but keeps those added to it later
// (POST /answers/{id}/questions): an edit that keeps the id removes those the user took out.
async function dropRemoved(id, kept) {
  const keys = new Set(kept.map(questionKey));
  const saved = await api("GET", `/answers/${part(id)}`);
  for (const text of alternates(saved)) {
    if (!keys.has(questionKey(text))) await api("DELETE", `/answers/${part(id)}/questions/${part(text)}`);
  }
}

// After the dialog changed the FAQ: say so in the view it was opened from, and show the change.
async function afterChange(message) {
  say($(`#view-${shown.view} > .status`), message, "ok");
  if (shown.view === "entries") await show();
}

async function deleteEntry() {
  const entry = dialogState.entry;
  try {
    await api("DELETE", `/answers/${part(entry.id)}`);
  } catch (err) {
    say(dialogStatus(), `Not deleted: ${err.message}`, "error");
    return;
  }
  dialog.close();
  await afterChange(`Deleted the entry “${entry.question || entry.answer}”.`);
}

// ---- import ---------------------------------------------------------------------------------

// The file goes to POST /import as it is: the service reads it with the readers faq-index uses
// (JSON Lines, CSV, XLSX, a QnA Maker TSV export, Markdown, an FAQ page), adds the entries it
// could read and lists every row or item it could not, with where it is. Nothing is parsed
// here, so the console and faq-index can never read a file differently.
function showProblems(report, problems) {
  $("tbody", report).replaceChildren(
    ...problems.map((p) => {
      const tr = document.createElement("tr");
      tr.append(element("td", p.where), element("td", p.reason));
      return tr;
    }),
  );
  report.hidden = !problems.length;
}

async function onImport(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const importStatus = $(".import > .status");
  const report = $("#import-report");
  const file = form.file.files[0];
  if (!file) return;
  report.hidden = true;
  await busy(form, async () => {
    say(importStatus, `Importing ${file.name}…`);
    const source = form.source.value.trim();
    const query = `filename=${part(file.name)}${source ? `&source=${part(source)}` : ""}`;
    let result;
    try {
      result = await api("POST", `/import?${query}`, file);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showProblems(report, err.details.filter((d) => d.where && d.reason));
      say(importStatus, `${file.name}: nothing was imported. ${err.message}`, "error");
      return;
    }
    showProblems(report, result.problems);
    const more = result.problem_count > result.problems.length ? ` (the first ${result.problems.length} listed)` : "";
    const refused = result.problem_count ? ` ${plural(result.problem_count, "item")} could not be read${more}.` : "";
    say(importStatus, `${file.name} (${result.format}): ${plural(result.ids.length, "entry", "entries")} imported.${refused}`,
      result.problem_count ? "error" : "ok");
    await restart();
  });
}

// ---- wiring ---------------------------------------------------------------------------------

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
$("#entry-phrasing-form").addEventListener("submit", addPhrasing);
$("#entry-form").addEventListener("submit", saveEntry);
$("#import-form").addEventListener("submit", onImport);
