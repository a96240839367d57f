// The Ask view: ask as a customer would, see what the service answers, how sure it is, and
// what of each entry matched; give 👍/👎 feedback on an answer.
import { $, $$, api, busy, clone, fill, isAnswered, orNone, percent, quoted, say } from "./shared.js";

const REASONS = {
  no_match: "No FAQ entry is close enough to this question.",
  ambiguous: "Several FAQ entries match about equally well; none stands out.",
  unhelpful: "Users said the answer they got did not help.",
};

// What of the entry matched the question. The FAQ question and the answer are on the card
// already, so only an alternate phrasing is quoted (`matched_text`).
function matchedText(answer) {
  if (answer.matched === "alternate") {
    return answer.matched_text ? `an alternate phrasing: ${quoted(answer.matched_text)}` : "an alternate phrasing";
  }
  return answer.matched === "question" ? "its FAQ question" : "its answer";
}

function renderAnswer(question, answer, minConfidence) {
  const item = clone("answer-template");
  fill(item, {
    answer: answer.answer,
    question: orNone(answer.question),
    source: orNone(answer.source),
    matched: matchedText(answer),
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
  for (const choice of $$("[data-helpful]", item)) {
    choice.addEventListener("click", async () => {
      const helpful = choice.dataset.helpful === "true";
      try {
        await api("POST", "/feedback", { question, answer_id: answer.id, helpful });
        $$("[data-helpful]", item).forEach((b) => {
          b.setAttribute("aria-pressed", String(b === choice));
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

export function show() {
  $("#ask-question").focus();
}

$("#ask-form").addEventListener("submit", onAsk);
