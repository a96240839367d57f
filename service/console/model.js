// The Model view: the servable's card from GET /manifest: what it is, how it did on validation,
// where the service answers and why (the servable's own point, or one calibrated on this FAQ's
// reviewed questions), and the plots faq-train saved with it.
import { $, api, element, orNone, percent, say, when } from "./shared.js";

const PLOTS = {
  score_distribution: "Scores of first answers, right and wrong, with the threshold",
  reliability_diagram: "Reliability: confidence against how often the answer was right",
  training_curves: "Training curves of the head",
  encoder_curves: "Training curves of the encoder",
};

// A name and a value (text or a node); nothing when there is no value.
function fact(list, name, value) {
  if (value === undefined || value === null || value === "") return;
  const row = document.createElement("div");
  const shown = element("dd");
  shown.append(value instanceof Node ? value : String(value));
  row.append(element("dt", name), shown);
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

// The point /ask answers at by default: the calibration's (`calibration.min_confidence`, with
// why) on services that recalibrate, else the servable's own.
function operatingPoint(manifest) {
  const calibration = manifest.calibration || {};
  const confidence = manifest.confidence || {};
  const threshold = manifest.threshold || (manifest.metrics || {}).threshold;
  const parts = [];
  if (typeof calibration.min_confidence === "number") {
    parts.push(`The service answers when its confidence is at least ${percent(calibration.min_confidence)} (${calibration.why}); below that it abstains.`);
  } else if (typeof confidence.min_confidence === "number") {
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

// The operating point refitted on this deployment's reviewed questions (questions a person
// attached to an entry or wrote one for): whether it moved, and on what.
function calibrationFacts(calibration) {
  const list = $("#model-calibration");
  const state = $("#model-calibration-state");
  list.replaceChildren();
  if (!calibration) {
    state.textContent = "This service does not refit its operating point on reviewed questions.";
    return;
  }
  fact(list, "Answers at", percent(calibration.min_confidence));
  fact(list, "Why", calibration.why);
  fact(list, "The servable's own point", percent(calibration.servable_min_confidence));
  const fit = calibration.fit;
  if (!calibration.enabled) {
    state.textContent = "Off: the operating point does not move with reviewed questions.";
  } else if (!fit || typeof fit.min_confidence !== "number") {
    const reviewed = fit ? fit.reviewed : 0;
    state.textContent = `Not yet: ${reviewed} of ${calibration.min_reviewed} reviewed questions. The point moves once there are ${calibration.min_reviewed}.`;
  } else {
    state.textContent = `Fitted on ${fit.reviewed} reviewed questions.`;
    fact(list, "Fitted point", percent(fit.min_confidence));
    fact(list, "Reviewed questions", fit.reviewed);
    fact(list, "Answered at that point", fit.answered);
    fact(list, "Right of those", typeof fit.precision === "number" ? percent(fit.precision) : null);
    fact(list, "How it was chosen", fit.reason);
  }
  if (fit && fit.fitted_at) {
    fact(list, typeof fit.min_confidence === "number" ? "Last fitted" : "Last checked", when(fit.fitted_at));
  }
}

export async function show() {
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
  calibrationFacts(manifest.calibration);
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
