// The Suggestions view: users' questions the service proposes as alternate phrasings of an
// entry (GET /suggestions), grouped by entry and meaning, biggest first. A person accepts the
// questions checked (the entry answers them from then on), rejects them (never proposed for
// that entry again), or attaches them to another entry found by meaning. A suggestion partly
// decided keeps the rest under a new id, so the list is loaded again after each action.
import { openEntry } from "./entries.js";
import { entryPicker } from "./picker.js";
import {
  $,
  $$,
  api,
  busy,
  button,
  clone,
  element,
  fill,
  part,
  plural,
  quoted,
  say,
  shorten,
  ticket,
  times,
  when,
} from "./shared.js";

const PAGE_SIZE = 10;
const state = { offsets: [0], page: 0, next: null };
const status = () => $("#view-suggestions > .status");

// Why the questions are proposed, in words (the service counts each reason).
function reasonsInWords(reasons = {}) {
  const words = [];
  if (reasons.unanswered) words.push(`not answered ${times(reasons.unanswered)} while this entry was the closest`);
  if (reasons.chosen) words.push(`users chose this entry ${times(reasons.chosen)} over the answer given`);
  if (reasons.ambiguous) words.push(`users turned down the other of two close entries ${times(reasons.ambiguous)}`);
  return words.length ? `Why: ${words.join("; ")}.` : "";
}

const checkedIn = (item) => $$('input[type="checkbox"]:checked', item).map((box) => box.value);

function renderSuggestion(suggestion, index) {
  const item = clone("suggestion-template");
  const { entry } = suggestion;
  const name = entry.question || "(answer only)";
  $('[data-field="question"]', item).append(button(name, "link", () => openEntry(suggestion.entry_id)));
  fill(item, { answer: shorten(entry.answer, 240), reasons: reasonsInWords(suggestion.reasons) });
  const meta = $('[data-field="meta"]', item);
  meta.append(`Seen ${times(suggestion.count)}, first `, when(suggestion.first_seen), ", last ", when(suggestion.last_seen));
  if (entry.source) meta.append(` · source ${entry.source}`);
  $(".checks", item).append(
    ...suggestion.questions.map((question) => {
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.value = question;
      const label = document.createElement("label");
      label.append(box, element("span", question));
      const li = document.createElement("li");
      li.append(label);
      return li;
    }),
  );
  const cardStatus = $(":scope > .status", item);
  const actions = $('[data-part="actions"]', item);

  // The questions checked, or null (and a word why) when there are none. All of them are sent
  // as no list at all: the whole suggestion.
  const chosen = () => {
    const checked = checkedIn(item);
    if (!checked.length) {
      say(cardStatus, "Check the questions to decide on first.", "error");
      return null;
    }
    return { checked, body: checked.length === suggestion.questions.length ? {} : { questions: checked } };
  };
  const decide = (verb, work) => {
    const picked = chosen();
    if (!picked) return;
    busy(item, async () => {
      try {
        say(cardStatus, `${verb}…`);
        const message = await work(picked);
        await load(message, index);
      } catch (err) {
        say(cardStatus, `Not done: ${err.message}`, "error");
      }
    });
  };

  $('[data-part="accept"]', item).addEventListener("click", () =>
    decide("Accepting", async ({ body }) => {
      const done = await api("POST", `/suggestions/${part(suggestion.id)}/accept`, body);
      return `Accepted: ${plural(done.questions.length, "question")} attached to ${quoted(name)}; the service answers with it from now on.`;
    }),
  );
  $('[data-part="reject"]', item).addEventListener("click", () =>
    decide("Rejecting", async ({ body }) => {
      const done = await api("POST", `/suggestions/${part(suggestion.id)}/reject`, body);
      return `Rejected: ${plural(done.questions.length, "question")} never proposed for ${quoted(name)} again.`;
    }),
  );
  const other = $('[data-part="other"]', item);
  other.addEventListener("click", () => {
    if (!chosen()) return;
    say(cardStatus, "");
    actions.hidden = true;
    const picker = entryPicker({
      query: suggestion.questions[0],
      action: "Attach the checked questions to it",
      exclude: suggestion.entry_id,
      onPick: async (target) => {
        const picked = chosen();
        if (!picked) throw new Error("no question is checked");
        const done = await api("POST", `/suggestions/${part(suggestion.id)}/accept`, {
          ...picked.body,
          entry_id: target.id,
        });
        const to = quoted(target.question || "(answer only)");
        await load(`Accepted for another entry: ${plural(done.questions.length, "question")} attached to ${to}.`, index);
      },
      onCancel: () => {
        picker.remove();
        actions.hidden = false;
        other.focus();
      },
    });
    actions.after(picker);
    picker.q.focus();
  });
  return item;
}

// Load the page shown. `message`: what the last action did, said in the view's status line;
// `focusAt`: the card whose place to keep focus at after an action (the one that took its
// place, else the view's title).
async function load(message = "", focusAt = null) {
  const current = ticket("suggestions");
  const list = $("#suggestions");
  if (!message) say(status(), "Loading…");
  let page;
  try {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(state.offsets[state.page]) });
    page = await api("GET", `/suggestions?${params}`);
  } catch (err) {
    if (!current()) return;
    list.replaceChildren();
    const hint = err.status === 404 ? " (this service has no GET /suggestions)" : "";
    say(status(), `Could not load the suggestions: ${err.message}${hint}`, "error");
    return;
  }
  if (!current()) return;
  if (!page.suggestions.length && state.page > 0) {
    // The last page's suggestions were all decided: show the one before.
    state.page -= 1;
    return load(message, focusAt);
  }
  state.next = page.next_offset;
  list.replaceChildren(...page.suggestions.map(renderSuggestion));
  $("#suggestions-empty").hidden = page.suggestions.length > 0 || state.page > 0;
  $("#suggestions-prev").disabled = state.page === 0;
  $("#suggestions-next").disabled = state.next === null;
  $("#suggestions-pager").hidden = state.page === 0 && state.next === null;
  const first = state.offsets[state.page] + 1;
  const range = page.suggestions.length ? `Suggestions ${first}–${first + page.suggestions.length - 1}, biggest first.` : "";
  say(status(), message || range, message ? "ok" : "");
  if (focusAt !== null) {
    const cards = $$("#suggestions > li");
    const card = cards[Math.min(focusAt, cards.length - 1)];
    (card ? $("input", card) : $("#suggestions-title")).focus();
  }
}

export function show() {
  return load();
}

$("#suggestions-refresh").addEventListener("click", () => load());
$("#suggestions-prev").addEventListener("click", () => {
  state.page = Math.max(0, state.page - 1);
  load();
});
$("#suggestions-next").addEventListener("click", () => {
  if (state.next === null) return;
  state.offsets[state.page + 1] = state.next;
  state.page += 1;
  load();
});
