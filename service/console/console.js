// The FAQ console's main module: it routes the URL's hash (#ask, #unanswered, #entries,
// #suggestions, #model) to a view, each an ES module of its own beside this one, served as it is
// (no build step, nothing from another host). shared.js holds what the views share: API calls
// with the key, tickets against stale responses, small DOM helpers.
//
// The Ask view, the one a first visit shows, comes with this module; each other view's module
// loads when that view is first opened, so the first load carries only what it shows. A view's
// section is unhidden only once its module is loaded and has wired its controls: nothing on it
// can be used before it works.
import * as ask from "./ask.js";
import { $, $$, say, shown } from "./shared.js";

const VIEWS = {
  ask: { title: "Ask", load: async () => ask },
  unanswered: { title: "Unanswered", load: () => import("./unanswered.js") },
  entries: { title: "Entries", load: () => import("./entries.js") },
  suggestions: { title: "Suggestions", load: () => import("./suggestions.js") },
  model: { title: "Model", load: () => import("./model.js") },
};

let routed = 0; // the latest view asked for: one asked earlier and loaded later is not shown

async function route(initial) {
  const asked = location.hash.slice(1);
  if (!(asked in VIEWS) && shown.view) return; // an anchor in the page (the skip link), not a view
  const name = asked in VIEWS ? asked : "ask";
  const mine = ++routed;
  let view = null;
  let failure = null;
  try {
    view = await VIEWS[name].load();
  } catch (err) {
    failure = err;
  }
  if (mine !== routed) return;
  shown.view = name;
  for (const id of Object.keys(VIEWS)) $(`#view-${id}`).hidden = id !== name;
  for (const link of $$("nav[aria-label=Views] a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${VIEWS[name].title} · FAQ console`;
  if (!initial && name !== "ask") $(`#${name}-title`).focus();
  if (failure) {
    say($(`#view-${name} > .status`), `This view could not be loaded (${failure.message}); reload the page.`, "error");
    return;
  }
  view.show();
}

for (const close of $$("[data-close]")) {
  close.addEventListener("click", () => close.closest("dialog").close());
}
window.addEventListener("hashchange", () => route(false));
route(true);
