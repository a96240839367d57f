// What every view of the console shares: talking to the service (the API key prompt, the retry
// after a 401), tickets against stale responses, and small DOM helpers. Text from the service
// only ever goes into the page through textContent (or a value or an Option's text): nothing
// here parses HTML.

const KEY_STORAGE = "faq-api-key";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// The view shown, as the router in console.js set it: the entry dialog reports in it.
export const shown = { view: null };

// ---- talking to the service -----------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, message, details, code) {
    super(message);
    this.status = status;
    this.details = details || [];
    this.code = code || null;
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

// A request to the service: JSON (or a file) in, JSON out, the key from this tab's session storage as Bearer.
// A 401 asks for the key (again, saying the last one was refused) and retries. An error answer
// becomes an ApiError with the service's message and code (`{"error": {"code", "message"}}`).
export async function api(method, path, body) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = `Bearer ${key}`;
    // A file (a Blob) goes as it is, with its own type; anything else as JSON.
    const file = body instanceof Blob;
    if (body !== undefined) headers["Content-Type"] = file ? body.type || "application/octet-stream" : "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined || file ? body : JSON.stringify(body),
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
      throw new ApiError(response.status, message, error && error.details, error && error.code);
    }
    return data;
  }
}

// `GET /answers/{id}` and the other paths that name an entry or a question: the part encoded.
export const part = (text) => encodeURIComponent(text);

// A verdict from `POST /ask`: services before the no-answer contract send no `answered`.
export const isAnswered = (result) => result.answered !== false;

// A view's loads are asynchronous, and a slower response must never overwrite a newer one (the
// all-sources page arriving after the user chose a source, say). Each load takes the view's next
// ticket and renders its response, or its error, only while that ticket is still the latest.
const tickets = {};

export function ticket(view) {
  const mine = (tickets[view] = (tickets[view] ?? 0) + 1);
  return () => tickets[view] === mine;
}

// ---- small page helpers ---------------------------------------------------------------------

export function say(element, text, kind = "") {
  element.textContent = text;
  element.className = `status ${kind}`.trim();
  element.setAttribute("role", kind === "error" ? "alert" : "status");
}

export function fill(root, values) {
  for (const [name, value] of Object.entries(values)) {
    const element = $(`[data-field="${name}"]`, root);
    if (element) element.textContent = value;
  }
}

export function clone(templateId) {
  return $(`#${templateId}`).content.firstElementChild.cloneNode(true);
}

export function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function button(text, className, onClick) {
  const node = element("button", text, className);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

export const percent = (x) => `${Math.round(x * 100)}%`;
export const orNone = (text) => (text === null || text === undefined || text === "" ? "—" : text);
export const quoted = (text) => `“${text}”`;
export const times = (n) => (n === 1 ? "once" : n === 2 ? "twice" : `${n} times`);
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// At most `limit` characters, cut at a word, with an ellipsis when cut.
export function shorten(text, limit = 160) {
  if (text.length <= limit) return text;
  const cut = text.slice(0, limit);
  const space = cut.lastIndexOf(" ");
  return `${(space > limit / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function when(iso) {
  const node = element("time", new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));
  node.dateTime = iso;
  return node;
}

// Disable a form's (or a card's) buttons while `work` runs, so a request is not sent twice;
// each is given back the state it had.
export async function busy(root, work) {
  const buttons = $$("button", root).filter((b) => !b.disabled);
  buttons.forEach((b) => (b.disabled = true));
  root.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    buttons.forEach((b) => (b.disabled = false));
    root.removeAttribute("aria-busy");
  }
}
