// Find an entry by meaning and pick it: the Unanswered view's "Attach to an existing entry" and
// the Suggestions view's "Attach to another entry…". A search is `POST /ask` with top_k 5, as a
// user's question would be; the entries found are radio buttons, nearest first, and the action
// button runs `onPick(entry)` for the one chosen. Apart from the views that use it, so both pick
// the same way.
import { $, api, busy, clone, element, orNone, say, shorten } from "./shared.js";

const FOUND = 5;

// A picker, searched at once for `query`. `exclude`: an entry not to offer (the one a
// suggestion is for already). `onPick` may throw: its message is shown and the picker stays.
export function entryPicker({ query, action, exclude = null, onPick, onCancel }) {
  const form = clone("picker-template");
  const field = form.q;
  const choices = $(".choices", form);
  const found = $("fieldset", form);
  const pick = $('[data-part="pick"]', form);
  const status = $(":scope > .status", form);
  let offered = new Map();
  let latest = 0; // a search's answer is shown only while it is the latest one asked

  field.value = query;
  pick.textContent = action;

  const search = async () => {
    const text = field.value.trim();
    if (!text) return;
    const mine = ++latest;
    say(status, "Searching…");
    try {
      const result = await api("POST", "/ask", { question: text, top_k: FOUND });
      if (mine !== latest) return;
      const entries = result.answers.filter((a) => a.id !== exclude);
      offered = new Map(entries.map((a) => [a.id, a]));
      choices.replaceChildren(...entries.map(choice));
      found.hidden = !entries.length;
      pick.disabled = true;
      say(status, entries.length ? "" : "No entry found: try other words.");
    } catch (err) {
      if (mine !== latest) return;
      say(status, `Could not search: ${err.message}`, "error");
    }
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "entry") pick.disabled = false;
  });
  pick.addEventListener("click", () => {
    const chosen = offered.get($('input[name="entry"]:checked', form)?.value);
    if (!chosen) return;
    busy(form, async () => {
      try {
        say(status, "Saving…");
        await onPick(chosen);
      } catch (err) {
        say(status, `Not saved: ${err.message}`, "error");
      }
    });
  });
  $('[data-part="cancel"]', form).addEventListener("click", onCancel);
  search();
  return form;
}

// One entry found: its FAQ question, the start of its answer, its source. (Not its confidence:
// with the entry a suggestion is for left out, the others read "0%", which helps no one choose.)
function choice(entry) {
  const item = document.createElement("li");
  const label = document.createElement("label");
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "entry";
  radio.value = entry.id;
  label.append(
    radio,
    element("span", entry.question || "(answer only)", "choice-question"),
    element("span", shorten(entry.answer, 140), "choice-answer"),
    element("span", `source ${orNone(entry.source)}`, "meta"),
  );
  item.append(label);
  return item;
}
