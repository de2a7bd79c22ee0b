// The three tables: jobs, runs and nodes. Each row is built once and then updated in place
// (see syncRows), so the live refresh never steals keyboard focus or closes a traceback.

import { el, setAttribute, setText, syncRows, updateBadge, updateTime } from "./dom.js";
import { absolute, age, duration, relative, triggerSummary } from "./format.js";

const OUTCOME_KINDS = {
  succeeded: "ok", failed: "bad", running: "info", missed: "warn", lost: "warn", interrupted: "warn",
  timed_out: "bad", cancelled: "warn",
};
const parts = new WeakMap();
// Characters of a run-now's request shown in the history; all of it is the tooltip.
const REQUEST_SHOWN = 120;

function actionButton(action, text, extraClass = "") {
  const className = `small ${extraClass}`.trim();
  return el("button", { type: "button", className, dataset: { action } }, text);
}

/** A job's display name: its name, or its id when the name adds nothing. */
export function jobLabel(job) {
  return job.name || job.id;
}

// -- jobs ------------------------------------------------------------------------------------

/**
 * `lastRuns` maps job id to its newest run (or null when it never ran); jobs whose newest
 * run is not known yet show "…".
 */
export function renderJobs(tbody, jobs, { lastRuns, now }) {
  syncRows(tbody, jobs, (job) => job.id, createJobRow, (row, job) => {
    updateJobRow(row, job, lastRuns.get(job.id), now);
  });
}

function createJobRow() {
  const name = el("span", { className: "job-name" });
  const detail = el("span", { className: "job-detail" });
  const trigger = el("td", { className: "trigger" });
  const next = el("time");
  const lastOutcome = el("span");
  const lastTime = el("time", { className: "muted" });
  const state = el("span");
  const pauseNote = el("p", { className: "pause-note muted", hidden: true });
  const toggle = actionButton("toggle", "Pause");
  const buttons = [
    actionButton("run", "Run now"),
    actionButton("run-with", "Run with…"),
    toggle,
    actionButton("history", "History"),
    actionButton("delete", "Delete", "danger"),
  ];
  const row = el(
    "tr",
    {},
    el("th", { scope: "row" }, name, detail),
    trigger,
    el("td", {}, next),
    el("td", { className: "last-run" }, lastOutcome, " ", lastTime),
    el("td", {}, state, pauseNote),
    el("td", {}, el("div", { className: "actions" }, ...buttons)),
  );
  parts.set(row, {
    name, detail, trigger, next, lastOutcome, lastTime, state, pauseNote, toggle, buttons,
  });
  return row;
}

function updateJobRow(row, job, last, now) {
  const p = parts.get(row);
  const label = jobLabel(job);
  const paused = job.next_run_time === null;
  setText(p.name, label);
  setText(p.detail, job.name && job.name !== job.id ? `${job.id} · ${job.func}` : job.func);
  setText(p.trigger, triggerSummary(job));
  if (job.broken_reason) {
    updateTime(p.next, null, "—", `broken: ${job.broken_reason}`);
  } else if (paused) {
    updateTime(p.next, null, "—", "paused: no next run");
  } else {
    const next = job.next_run_time;
    updateTime(p.next, next, relative(next, now), absolute(next));
  }
  if (last === undefined) {
    updateBadge(p.lastOutcome, "…", "none");
    updateTime(p.lastTime, null, "", null);
  } else if (last === null) {
    updateBadge(p.lastOutcome, "never run", "none");
    updateTime(p.lastTime, null, "", null);
  } else {
    updateBadge(p.lastOutcome, last.outcome, OUTCOME_KINDS[last.outcome] || "none");
    const moment = last.finished_at || last.started_at || last.scheduled_time;
    updateTime(p.lastTime, moment, relative(moment, now), absolute(moment));
  }
  if (job.broken_reason) {
    updateBadge(p.state, "broken", "bad");
    setAttribute(p.state, "title", job.broken_reason);
  } else {
    updateBadge(p.state, paused ? "paused" : "active", paused ? "warn" : "ok");
    setAttribute(p.state, "title", null);
  }
  updatePauseNote(p.pauseNote, paused ? job : null, now);
  setText(p.toggle, paused ? "Resume" : "Pause");
  const names = ["Run now", "Run with arguments", paused ? "Resume" : "Pause", "History of", "Delete"];
  p.buttons.forEach((button, index) => {
    setAttribute(button, "aria-label", `${names[index]} ${label}`);
  });
}

/** Why, by whom and when a paused job was paused (what its pause left; nothing if none). */
function updatePauseNote(node, job, now) {
  const facts = job && job.paused_at ? [
    job.paused_note,
    job.paused_by && `by ${job.paused_by}`,
    relative(job.paused_at, now),
  ].filter(Boolean) : [];
  node.hidden = facts.length === 0;
  setText(node, facts.join(" · "));
  setAttribute(node, "title", job && job.paused_at ? `paused ${absolute(job.paused_at)}` : null);
}

// -- runs ------------------------------------------------------------------------------------

/** `jobNames` maps job id to label; `nodeNames` maps node id to "host:pid". */
export function renderRuns(tbody, runs, { jobNames, nodeNames, now }) {
  syncRows(tbody, runs, (run) => String(run.id), createRunRow, (row, run) => {
    updateRunRow(row, run, jobNames, nodeNames, now);
  });
}

function createRunRow() {
  const job = el("span");
  const scheduled = el("time");
  const manual = el("span", { className: "tag", hidden: true }, "run now");
  const request = el("p", { className: "pause-note muted mono", hidden: true });
  const started = el("time");
  const took = el("td", { className: "number" });
  const node = el("td", { className: "mono" });
  const outcome = el("span");
  const error = el("p", { className: "error-text" });
  const trace = el("pre", { className: "traceback", tabIndex: 0 });
  const summary = el("summary", {}, "Traceback");
  const details = el("details", { hidden: true }, summary, trace);
  const row = el(
    "tr",
    {},
    el("th", { scope: "row" }, job),
    el("td", {}, scheduled, " ", manual, request),
    el("td", {}, started),
    took,
    node,
    el("td", {}, outcome),
    el("td", { className: "details" }, error, details),
  );
  parts.set(row, {
    job, scheduled, manual, request, started, took, node, outcome, error, trace, summary, details,
  });
  return row;
}

function updateRunRow(row, run, jobNames, nodeNames, now) {
  const p = parts.get(row);
  const job = jobNames.get(run.job_id) || run.job_id;
  setText(p.job, job);
  updateTime(p.scheduled, run.scheduled_time, absolute(run.scheduled_time), run.scheduled_time);
  p.manual.hidden = !run.manual;
  const asked = runRequest(run);
  p.request.hidden = !asked;
  setText(p.request, asked.length > REQUEST_SHOWN ? `${asked.slice(0, REQUEST_SHOWN)}…` : asked);
  setAttribute(p.request, "title", asked || null);
  if (run.started_at) {
    updateTime(p.started, run.started_at, relative(run.started_at, now), absolute(run.started_at));
  } else {
    updateTime(p.started, null, "—", null);
  }
  const running = run.outcome === "running" && run.started_at;
  const seconds = running ? (now - new Date(run.started_at).getTime()) / 1000 : run.duration;
  setText(p.took, running ? `${duration(Math.max(0, seconds))}…` : duration(seconds));
  setText(p.node, run.node_id ? nodeNames.get(run.node_id) || run.node_id.slice(0, 8) : "");
  setAttribute(p.node, "title", run.node_id);
  updateBadge(p.outcome, run.outcome, OUTCOME_KINDS[run.outcome] || "none");
  const result = run.result === null || run.result === undefined ? "" : `→ ${run.result}`;
  setText(p.error, run.error || result);
  p.error.classList.toggle("failed", Boolean(run.error));
  p.details.hidden = !run.traceback;
  setText(p.trace, run.traceback || "");
  setAttribute(p.summary, "aria-label", `Traceback of ${job} run ${run.id}`);
}

/** What a run-now asked for beyond its job: who, and arguments of its own. */
function runRequest(run) {
  const facts = [];
  if (run.requested_by) facts.push(`by ${run.requested_by}`);
  if (run.args_truncated) facts.push("own arguments (too long to list)");
  if (run.args !== null && run.args !== undefined) facts.push(`args ${JSON.stringify(run.args)}`);
  if (run.kwargs !== null && run.kwargs !== undefined) {
    facts.push(`kwargs ${JSON.stringify(run.kwargs)}`);
  }
  return facts.join(" · ");
}

// -- nodes -----------------------------------------------------------------------------------

/** `currentNode` is the id of the node inside the server answering the API (or null). */
export function renderNodes(tbody, nodes, { currentNode, now }) {
  syncRows(tbody, nodes, (node) => node.id, createNodeRow, (row, node) => {
    updateNodeRow(row, node, currentNode, now);
  });
}

/** "host:pid", how nodes are named throughout the dashboard. */
export function nodeLabel(node) {
  return `${node.host}:${node.pid}`;
}

function createNodeRow() {
  const name = el("span", { className: "mono" });
  const here = el("span", { className: "tag", hidden: true }, "this server");
  const version = el("td");
  const state = el("span");
  const paused = el("span");
  const heartbeat = el("time");
  const started = el("time");
  const toggle = actionButton("toggle-node", "Pause");
  const row = el(
    "tr",
    {},
    el("th", { scope: "row" }, name, " ", here),
    version,
    el("td", {}, state),
    el("td", {}, paused),
    el("td", {}, heartbeat),
    el("td", {}, started),
    el("td", {}, el("div", { className: "actions" }, toggle)),
  );
  parts.set(row, { name, here, version, state, paused, heartbeat, started, toggle });
  return row;
}

function updateNodeRow(row, node, currentNode, now) {
  const p = parts.get(row);
  const label = nodeLabel(node);
  setText(p.name, label);
  setAttribute(p.name, "title", node.id);
  p.here.hidden = node.id !== currentNode;
  setText(p.version, node.version);
  const stateKind = { running: "ok", dead: "bad" }[node.state] || "none";
  updateBadge(p.state, node.state, stateKind);
  updateBadge(p.paused, node.is_paused ? "paused" : "active", node.is_paused ? "warn" : "ok");
  const beat = node.heartbeat_at;
  updateTime(p.heartbeat, beat, age(beat, now), absolute(beat));
  updateTime(p.started, node.started_at, relative(node.started_at, now), absolute(node.started_at));
  setText(p.toggle, node.is_paused ? "Resume" : "Pause");
  setAttribute(p.toggle, "aria-label", `${node.is_paused ? "Resume" : "Pause"} node ${label}`);
  p.toggle.hidden = node.state !== "running";
}
