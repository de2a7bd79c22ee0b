// The dashboard: loads everything from the REST API, refreshes every two seconds while the
// tab is visible, and sends the buttons' actions back to the API.

import { Api, ApiError, basicAuthorization, bearerAuthorization, segment } from "./api.js";
import { el, setAttribute, setText } from "./dom.js";
import { jobLabel, nodeLabel, renderJobs, renderNodes, renderRuns } from "./views.js";

const REFRESH_MS = 2000;
// After an action, look again sooner: a run started now is recorded a moment later.
const SOON_MS = 400;
const RUNS_SHOWN = 50;
// The newest runs of all jobs, read on every refresh to learn each job's last outcome.
const RECENT_RUNS = 200;
// Jobs missing from the recent runs are looked up one by one, at most this many per refresh.
const LOOKUPS_PER_REFRESH = 20;

// The page lives at <prefix>/ui/, so the API is one level up, whatever the prefix or proxy.
const api = new Api(new URL("../", document.baseURI).pathname);
const $ = (id) => document.getElementById(id);

const state = {
  info: null,
  jobs: [],
  nodes: [],
  lastRuns: new Map(), // job id -> newest run, or null when the job never ran
  runsJob: "",
  runsOutcome: "",
  showStopped: false,
  needsLogin: false,
  soon: false,
};

// -- refreshing ------------------------------------------------------------------------------

let timer = null;
let loading = null;
let again = false;

/** Refresh now; a refresh asked for while one is under way runs right after it. */
function refresh() {
  if (state.needsLogin) return Promise.resolve();
  if (loading) {
    again = true;
    return loading;
  }
  loading = load()
    .then(() => showProblem(""))
    .catch(handleError)
    .finally(() => {
      loading = null;
      if (again) {
        again = false;
        refresh();
      } else {
        scheduleRefresh();
      }
    });
  return loading;
}

function scheduleRefresh() {
  clearTimeout(timer);
  if (document.visibilityState === "visible" && !state.needsLogin) {
    timer = setTimeout(refresh, state.soon ? SOON_MS : REFRESH_MS);
    state.soon = false;
  }
}

async function load() {
  const filtered = state.runsJob || state.runsOutcome;
  const [info, jobs, nodes, recent, filteredRuns] = await Promise.all([
    api.get(""),
    api.get("jobs"),
    api.get(state.showStopped ? "nodes?include_stopped=true" : "nodes"),
    api.get(`runs?limit=${RECENT_RUNS}`),
    filtered ? api.get(`runs?${runsQuery()}`) : null,
  ]);
  jobs.sort((a, b) => jobLabel(a).localeCompare(jobLabel(b)) || a.id.localeCompare(b.id));
  Object.assign(state, { info, jobs, nodes });
  learnLastRuns(recent);
  await lookUpLastRuns();
  render(filteredRuns || recent.slice(0, RUNS_SHOWN));
}

function runsQuery() {
  const query = new URLSearchParams({ limit: String(RUNS_SHOWN) });
  if (state.runsJob) query.set("job_id", state.runsJob);
  if (state.runsOutcome) query.set("outcome", state.runsOutcome);
  return query.toString();
}

function learnLastRuns(runs) {
  for (const run of runs) {
    const known = state.lastRuns.get(run.job_id);
    if (!known || run.id >= known.id) state.lastRuns.set(run.job_id, run);
  }
  const ids = new Set(state.jobs.map((job) => job.id));
  const seen = new Set(runs.map((run) => run.id));
  for (const [id, run] of state.lastRuns) {
    // Forget removed jobs, and running runs that left the page: they are looked up again.
    if (!ids.has(id) || (run?.outcome === "running" && !seen.has(run.id))) {
      state.lastRuns.delete(id);
    }
  }
}

/** Jobs that did not run lately: ask for their newest run once (a few per refresh). */
async function lookUpLastRuns() {
  const unknown = state.jobs
    .filter((job) => !state.lastRuns.has(job.id))
    .slice(0, LOOKUPS_PER_REFRESH);
  await Promise.all(unknown.map(async (job) => {
    try {
      const [run] = await api.get(`jobs/${segment(job.id)}/runs?limit=1`);
      if (!state.lastRuns.has(job.id)) state.lastRuns.set(job.id, run || null);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
    }
  }));
}

function render(runs) {
  const now = Date.now();
  const { info, jobs, nodes } = state;
  renderCluster(info);
  renderJobs($("jobs").tBodies[0], jobs, { lastRuns: state.lastRuns, now });
  $("jobs-empty").hidden = jobs.length > 0;
  setText($("job-count"), `(${jobs.length})`);
  syncJobChoices();
  const jobNames = new Map(jobs.map((job) => [job.id, jobLabel(job)]));
  const nodeNames = new Map(nodes.map((node) => [node.id, nodeLabel(node)]));
  renderRuns($("runs").tBodies[0], runs, { jobNames, nodeNames, now });
  $("runs-empty").hidden = runs.length > 0;
  renderNodes($("nodes").tBodies[0], nodes, { currentNode: info.node_id, now });
  $("nodes-empty").hidden = nodes.length > 0;
  setText($("node-count"), `(${nodes.length})`);
  setText($("updated"), `Updated ${new Date(now).toLocaleTimeString()}`);
  $("sign-out").hidden = !api.authorization;
  $("login").hidden = true;
  $("content").hidden = false;
}

function renderCluster(info) {
  $("cluster").hidden = false;
  const toggle = $("global-pause");
  toggle.disabled = false;
  toggle.setAttribute("aria-checked", String(info.is_paused));
  const badge = $("cluster-state");
  setText(badge, info.is_paused ? "Paused: no job runs" : "Running");
  badge.className = `badge badge-${info.is_paused ? "warn" : "ok"}`;
}

/** The job filter offers every job, plus the chosen one when it has been deleted. */
function syncJobChoices() {
  const select = $("runs-job");
  const choices = state.jobs.map((job) => [job.id, jobLabel(job)]);
  if (state.runsJob && !choices.some(([id]) => id === state.runsJob)) {
    choices.push([state.runsJob, `${state.runsJob} (deleted)`]);
  }
  const wanted = ["", ...choices.map(([id, label]) => `${id}\u0000${label}`)].join("\u0001");
  if (select.dataset.choices === wanted) return;
  select.replaceChildren(
    el("option", { value: "" }, "All jobs"),
    ...choices.map(([id, label]) => el("option", { value: id }, label)),
  );
  select.value = state.runsJob;
  select.dataset.choices = wanted;
}

// -- messages and errors ---------------------------------------------------------------------

/** Tell screen-reader users (and everyone, briefly) what an action did. */
function announce(message) {
  const status = $("status");
  status.textContent = "";
  requestAnimationFrame(() => {
    status.textContent = message;
  });
}

/** A problem reaching the API; cleared by the next refresh that works. */
function showProblem(message) {
  showIn($("problem"), message);
}

/** Why an action failed; stays until the next action. */
function showActionError(message) {
  showIn($("action-error"), message && `That did not work: ${message}`);
}

function showIn(element, message) {
  if (element.textContent !== message) element.textContent = message;
  element.hidden = !message;
}

function handleError(error) {
  if (error instanceof ApiError && error.status === 401) {
    showLogin(error);
  } else if (error instanceof ApiError) {
    const retry = error.status === 0 || error.status >= 500 ? " Retrying." : "";
    showProblem(`${error.message}${retry}`);
  } else {
    showProblem(`Unexpected error: ${error}`);
    console.error(error);
  }
}

// -- signing in ------------------------------------------------------------------------------

function showLogin(error) {
  const refused = Boolean(api.authorization);
  api.signOut();
  state.needsLogin = true;
  clearTimeout(timer);
  showProblem("");
  showActionError("");
  $("content").hidden = true;
  $("cluster").hidden = true;
  $("sign-out").hidden = true;
  setText($("updated"), "");
  $("login").hidden = false;
  const basicFirst = /^\s*basic/i.test(error.challenge);
  if (!refused) chooseMethod(basicFirst ? "basic" : "bearer");
  setText($("login-error"), refused ? "Those credentials were refused." : "");
  const method = $("login-form").elements.method.value;
  $(method === "basic" ? "login-user" : "login-token").focus();
}

function chooseMethod(method) {
  const form = $("login-form");
  form.elements.method.value = method;
  for (const field of form.querySelectorAll("[data-method]")) {
    field.hidden = field.dataset.method !== method;
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  const { method, token, username, password } = form.elements;
  if (method.value === "bearer" && !token.value.trim()) {
    setText($("login-error"), "Enter a token.");
    token.focus();
    return;
  }
  api.signIn(method.value === "bearer"
    ? bearerAuthorization(token.value)
    : basicAuthorization(username.value, password.value));
  state.needsLogin = false;
  await refresh();
  if (state.needsLogin) return;
  const chosen = method.value;
  form.reset();
  chooseMethod(chosen);
  announce("Signed in.");
  $("jobs-heading").focus();
}

function signOut() {
  api.signOut();
  state.lastRuns.clear();
  refresh();
}

// -- actions ---------------------------------------------------------------------------------

const busy = new Set();

/** Run one action at a time per target; report its outcome; refresh the page after it. */
async function act(key, work) {
  if (busy.has(key)) return;
  busy.add(key);
  showActionError("");
  try {
    announce(await work());
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      showLogin(error);
    } else {
      announce("");
      showActionError(error.message || String(error));
    }
  } finally {
    busy.delete(key);
  }
  state.soon = true;
  refresh();
}

function onJobAction(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const job = state.jobs.find((candidate) => candidate.id === button.closest("tr").dataset.key);
  if (!job) return;
  const label = jobLabel(job);
  const path = `jobs/${segment(job.id)}`;
  switch (button.dataset.action) {
    case "run":
      act(`job:${job.id}`, async () => {
        await api.post(`${path}/run`);
        return `Started a run of ${label}.`;
      });
      break;
    case "run-with":
      askRunWith(job, button);
      break;
    case "toggle":
      if (job.next_run_time !== null) {
        askPause(job, button);
      } else {
        act(`job:${job.id}`, async () => {
          await api.post(`${path}/resume`);
          return `Resumed ${label}.`;
        });
      }
      break;
    case "history":
      showHistory(job.id);
      break;
    case "delete":
      confirmDelete(job, button);
      break;
    default:
  }
}

function showHistory(jobId) {
  state.runsJob = jobId;
  $("runs-job").value = jobId;
  const heading = $("runs-heading");
  heading.scrollIntoView({ block: "start" });
  heading.focus({ preventScroll: true });
  refresh();
}

function confirmDelete(job, button) {
  const dialog = $("confirm-delete");
  setText($("confirm-job"), jobLabel(job));
  dialog.returnValue = "";
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "delete") {
      button.focus();
      return;
    }
    $("jobs-heading").focus();
    act(`job:${job.id}`, async () => {
      await api.delete(`jobs/${segment(job.id)}`);
      state.lastRuns.delete(job.id);
      return `Deleted ${jobLabel(job)}.`;
    });
  }, { once: true });
  dialog.showModal();
}

// -- dialogs: pause with a note, run with arguments -----------------------------------------

/**
 * Open `dialog` for `job`, and on submit send `work(form)` (which returns the message to
 * announce). The dialog stays open while the API refuses, showing why beside the field it
 * names; it closes when the work is done or cancelled, giving focus back to `button`.
 */
function openDialog(dialog, job, button, work) {
  const form = dialog.querySelector("form");
  const error = dialog.querySelector("[role=alert]");
  form.reset();
  markInvalid(form, null);
  setText(error, "");
  setText(dialog.querySelector("h2 span"), jobLabel(job));
  const submit = async (event) => {
    event.preventDefault();
    if (busy.has(`job:${job.id}`)) return;
    busy.add(`job:${job.id}`);
    markInvalid(form, null);
    setText(error, "");
    try {
      const message = await work(form);
      dialog.close();
      announce(message);
      state.soon = true;
      refresh();
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) {
        dialog.close();
        showLogin(failure);
      } else {
        setText(error, failure.message || String(failure));
        markInvalid(form, failure.field);
      }
    } finally {
      busy.delete(`job:${job.id}`);
    }
  };
  const cancel = () => dialog.close();
  const closeButton = form.querySelector("[data-close]");
  form.addEventListener("submit", submit);
  closeButton.addEventListener("click", cancel);
  dialog.addEventListener("close", () => {
    form.removeEventListener("submit", submit);
    closeButton.removeEventListener("click", cancel);
    if (!state.needsLogin && button.isConnected) button.focus();
  }, { once: true });
  dialog.showModal();
}

/** Mark the form's field called `name` invalid (and focus it); null clears the marks. */
function markInvalid(form, name) {
  for (const field of form.querySelectorAll("input, textarea")) {
    const invalid = Boolean(name) && field.name === name;
    setAttribute(field, "aria-invalid", invalid ? "true" : null);
    if (invalid) field.focus();
  }
}

/** An input error of the dialog's own, named like the API's (a field and a message). */
class InputError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function askPause(job, button) {
  openDialog($("pause-dialog"), job, button, async (form) => {
    const note = form.elements.note.value.trim();
    await api.post(`jobs/${segment(job.id)}/pause`, note ? { note } : {});
    return note ? `Paused ${jobLabel(job)}: ${note}` : `Paused ${jobLabel(job)}.`;
  });
}

function askRunWith(job, button) {
  const dialog = $("run-with-dialog");
  const { args, kwargs } = dialog.querySelector("form").elements;
  openDialog(dialog, job, button, async () => {
    const body = {};
    for (const field of [args, kwargs]) {
      const text = field.value.trim();
      if (!text) continue;
      try {
        body[field.name] = JSON.parse(text);
      } catch {
        throw new InputError(field.name, `${field.name} is not valid JSON.`);
      }
    }
    await api.post(`jobs/${segment(job.id)}/run`, body);
    return `Started a run of ${jobLabel(job)} with ${describeArguments(body)}.`;
  });
  // An empty field means the job's own arguments: shown as its placeholder (unless too
  // long to be listed).
  args.placeholder = job.args_truncated ? "" : JSON.stringify(job.args);
  kwargs.placeholder = job.args_truncated ? "" : JSON.stringify(job.kwargs);
}

function describeArguments(body) {
  const given = Object.keys(body);
  return given.length ? `its own ${given.join(" and ")}` : "the job's arguments";
}

function toggleCluster() {
  if (!state.info) return;
  const pause = !state.info.is_paused;
  act("cluster", async () => {
    state.info = await api.patch("", { is_paused: pause });
    renderCluster(state.info);
    return pause ? "Scheduler paused: no job runs on any node." : "Scheduler resumed.";
  });
}

function onNodeAction(event) {
  const button = event.target.closest("button[data-action='toggle-node']");
  if (!button) return;
  const node = state.nodes.find((candidate) => candidate.id === button.closest("tr").dataset.key);
  if (!node) return;
  const pause = !node.is_paused;
  act(`node:${node.id}`, async () => {
    await api.patch(`nodes/${segment(node.id)}`, { is_paused: pause });
    return `${pause ? "Paused" : "Resumed"} node ${nodeLabel(node)}.`;
  });
}

// -- wiring ----------------------------------------------------------------------------------

function start() {
  $("jobs").addEventListener("click", onJobAction);
  $("nodes").addEventListener("click", onNodeAction);
  $("global-pause").addEventListener("click", toggleCluster);
  $("sign-out").addEventListener("click", signOut);
  $("login-form").addEventListener("submit", signIn);
  $("login-form").addEventListener("change", (event) => {
    if (event.target.name === "method") chooseMethod(event.target.value);
  });
  $("runs-job").addEventListener("change", (event) => {
    state.runsJob = event.target.value;
    refresh();
  });
  $("runs-outcome").addEventListener("change", (event) => {
    state.runsOutcome = event.target.value;
    refresh();
  });
  $("nodes-stopped").addEventListener("change", (event) => {
    state.showStopped = event.target.checked;
    refresh();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && !state.needsLogin) refresh();
    else clearTimeout(timer);
  });
  refresh();
}

start();
