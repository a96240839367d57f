// The Unanswered view: the questions the service could not answer, grouped by meaning, each with
// the entry it found closest. A group is answered by writing an entry for it, or by attaching
// its questions to an existing entry as alternate phrasings; either way its questions are kept
// as reviews (`reviewed`), which recalibrate when the service answers.
import { openEntry } from "./entries.js";
import { entryPicker } from "./picker.js";
import {
  $,
  api,
  busy,
  button,
  clone,
  element,
  fill,
  isAnswered,
  orNone,
  part,
  percent,
  quoted,
  say,
  shorten,
  ticket,
  when,
} from "./shared.js";

function groupMeta(group) {
  const meta = document.createDocumentFragment();
  const count = group.count === 1 ? "once" : `${group.count} times`;
  meta.append(`Asked ${count}, first `, when(group.first_seen), ", last ", when(group.last_seen));
  const reasons = Object.entries(group.reasons || {})
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name.replace("_", " ")} ${n}`);
  if (reasons.length) meta.append(` · ${reasons.join(", ")}`);
  if (group.resolved) meta.append(" · answered since");
  return meta;
}

// Ask the group's questions again, one by one, and list which are answered now, and by what:
// `byName` names the entry just written or chosen (`id`).
async function recheck(group, id, byName, item, done) {
  const list = $(".recheck", item);
  const status = $(":scope > .status", item);
  list.replaceChildren();
  let answered = 0;
  for (const question of group.questions) {
    let result;
    try {
      result = await api("POST", "/ask", { question, top_k: 1 });
    } catch (err) {
      say(status, `${done}, but its questions could not be asked again: ${err.message}`, "error");
      return;
    }
    const best = result.answers[0];
    const ok = isAnswered(result) && best;
    answered += ok ? 1 : 0;
    const by = ok ? (best.id === id ? `by ${byName}` : `by ${quoted(orNone(best.question))}`) : "";
    const line = ok ? `Answered ${by}: ${question}` : `Still not answered: ${question}`;
    list.append(element("li", line, ok ? "ok" : "error"));
  }
  say(status, `${done}. ${answered} of ${group.questions.length} questions of this group are now answered.`,
    answered === group.questions.length ? "ok" : "error");
}

// The closest entry's FAQ question (it opens the entry) and the start of its answer. `entryOf`
// fetches each entry once per load of the view.
async function showCandidate(box, candidate, entryOf, current) {
  const sure = candidate.confidence === null || candidate.confidence === undefined
    ? "an answer users marked unhelpful"
    : `confidence ${percent(candidate.confidence)}`;
  fill(box, { closeness: `Closest entry (${sure}):` });
  const question = $(".closest-question", box);
  question.textContent = "Loading…";
  let entry;
  try {
    entry = await entryOf(candidate.id);
  } catch (err) {
    if (!current()) return;
    question.textContent = err.status === 404 ? "(deleted since)" : `Could not load it: ${err.message}`;
    return;
  }
  if (!current()) return;
  question.replaceChildren(button(entry.question || "(answer only)", "link", () => openEntry(entry.id)));
  fill(box, { "closest-answer": shorten(entry.answer, 240) });
}

function renderGroup(group, entryOf, current) {
  const item = clone("group-template");
  fill(item, { title: group.questions[0] || "(no question)" });
  $('[data-field="meta"]', item).append(groupMeta(group));
  const candidate = $('[data-part="candidate"]', item);
  if (group.best_candidate) showCandidate(candidate, group.best_candidate, entryOf, current);
  else candidate.remove();
  $(".examples", item).append(...group.questions.slice(0, 5).map((q) => element("li", q)));
  if (group.questions.length > 5) $(".examples", item).append(element("li", `and ${group.questions.length - 5} more`, "meta"));

  const actions = $('[data-part="actions"]', item);
  const write = $('[data-part="write"]', item);
  const attach = $('[data-part="attach"]', item);
  const form = $(".answer-form", item);
  const status = $(":scope > .status", item);
  const reopen = (focus) => {
    actions.hidden = false;
    focus.focus();
  };

  write.addEventListener("click", () => {
    form.hidden = false;
    actions.hidden = true;
    form.question.value = group.questions[0] || "";
    form.answer.focus();
  });
  $('[data-part="cancel"]', item).addEventListener("click", () => {
    form.hidden = true;
    reopen(write);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(form, async () => {
      const entry = { question: form.question.value.trim(), answer: form.answer.value.trim() };
      if (form.source.value.trim()) entry.source = form.source.value.trim();
      let id;
      try {
        say(status, "Saving…");
        ({ ids: [id] } = await api("POST", "/answers", { entries: [entry] }));
      } catch (err) {
        say(status, `Not saved: ${err.message}`, "error");
        return;
      }
      form.hidden = true;
      try {
        // The group's questions become the new entry's phrasings, kept as reviews: users'
        // questions this entry was written for.
        await api("POST", `/answers/${part(id)}/questions`, { questions: group.questions, reviewed: "written" });
      } catch (err) {
        say(status, `Saved the entry, but not the group's questions with it: ${err.message}`, "error");
        return;
      }
      say(status, "Saved. Asking this group's questions again…");
      await recheck(group, id, "the new entry", item, "Saved");
    });
  });

  attach.addEventListener("click", () => {
    actions.hidden = true;
    const picker = entryPicker({
      query: group.questions[0] || "",
      action: "Attach the group's questions to it",
      onPick: async (entry) => {
        await api("POST", `/answers/${part(entry.id)}/questions`, { questions: group.questions, reviewed: "attached" });
        picker.remove();
        say(status, "Attached. Asking this group's questions again…");
        await recheck(group, entry.id, quoted(entry.question || "(answer only)"), item, "Attached");
      },
      onCancel: () => {
        picker.remove();
        reopen(attach);
      },
    });
    actions.after(picker);
    picker.q.focus();
  });
  return item;
}

export async function show() {
  const status = $("#view-unanswered > .status");
  const list = $("#groups");
  const current = ticket("unanswered");
  say(status, "Loading…");
  try {
    const { groups } = await api("GET", "/unanswered");
    if (!current()) return;
    // Open groups first, biggest first; the sort is stable, so the service's order breaks ties.
    groups.sort((a, b) => Number(a.resolved) - Number(b.resolved) || b.count - a.count);
    const fetched = new Map();
    const entryOf = (id) => {
      if (!fetched.has(id)) fetched.set(id, api("GET", `/answers/${part(id)}`));
      return fetched.get(id);
    };
    list.replaceChildren(...groups.map((g) => renderGroup(g, entryOf, current)));
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

$("#unanswered-refresh").addEventListener("click", show);
