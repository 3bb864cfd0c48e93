// Okno workspace: forms submitted in place, live updates over server-sent events, timers,
// the call script stepper and keyboard shortcuts. No framework: the pages are server-rendered.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

// A one-off id per submission: a retry after a lost reply repeats it (the service answers with
// what it did the first time); a success renews it, so the next complaint is a new one.
function newSubmissionId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function submitInPlace(form, submitter) {
  const target = document.querySelector(form.dataset.target);
  const submission = form.querySelector('input[name="submission"]');
  if (submission && !submission.value) submission.value = newSubmissionId();
  const data = new FormData(form, submitter);
  const method = (form.getAttribute("method") || "get").toUpperCase();
  // getAttribute: a control named "action" would shadow the form's own property.
  const action = form.getAttribute("action");
  let url = action;
  const init = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
  if (method === "GET") {
    url += "?" + new URLSearchParams(data).toString();
  } else {
    init.body = data;
  }
  if (target) target.setAttribute("aria-busy", "true");
  try {
    const reply = await fetch(url, init);
    if (reply.redirected && reply.url.endsWith("/login")) {
      window.location = reply.url;
      return;
    }
    const text = reply.status === 204 ? "" : await reply.text();
    if (submission && reply.ok) submission.value = "";
    if (target) target.innerHTML = text;
    fillCurrentCall();
    if (action === "/operator/state") refreshPanel();
  } catch (error) {
    if (target) target.innerHTML = '<div class="result fail">Нет связи с сервером</div>';
  } finally {
    if (target) target.removeAttribute("aria-busy");
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.target) return;
  event.preventDefault();
  submitInPlace(form, event.submitter);
});

// --- operator: the panel (state and call card) ------------------------------------------------

let refreshing = false;
let refreshAgain = false;

// One fetch at a time; news arriving during a fetch asks for one more, so the panel never
// stays on a state read before the latest change.
async function refreshPanel() {
  const panel = document.getElementById("panel");
  if (!panel) return;
  if (refreshing) {
    refreshAgain = true;
    return;
  }
  refreshing = true;
  try {
    do {
      refreshAgain = false;
      const reply = await fetch("/operator/panel", { credentials: "same-origin" });
      if (reply.ok) {
        panel.innerHTML = await reply.text();
        startTimers(panel);
        fillCurrentCall();
        restoreStep();
      }
    } while (refreshAgain);
  } finally {
    refreshing = false;
  }
}

// The forms of the conversation refer to the current call and caller.
function fillCurrentCall() {
  const state = document.getElementById("agent-state");
  if (!state) return;
  const callId = state.dataset.callId || "";
  const phone = state.dataset.phone || "";
  document.querySelectorAll("input.current-call").forEach((input) => { input.value = callId; });
  // The journal is often written after the call: it keeps the last call until the next one.
  if (callId) document.querySelectorAll("input.last-call").forEach((input) => { input.value = callId; });
  if (state.dataset.topic) {
    document.querySelectorAll("select.current-topic").forEach((select) => { select.value = state.dataset.topic; });
  }
  document.querySelectorAll("input.current-phone").forEach((input) => {
    if (phone && (!input.value || input.dataset.filled === "1")) {
      input.value = phone;
      input.dataset.filled = "1";
    }
  });
}

function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
}

let timers = [];

function startTimers(root) {
  timers = timers.filter((t) => document.body.contains(t.element));
  const started = performance.now();
  root.querySelectorAll("[data-elapsed]").forEach((element) => {
    timers.push({ element, started, base: parseFloat(element.dataset.elapsed), sign: 1 });
  });
  root.querySelectorAll("[data-countdown]").forEach((element) => {
    timers.push({ element, started, base: parseFloat(element.dataset.countdown), sign: -1 });
  });
}

setInterval(() => {
  const now = performance.now();
  for (const t of timers) {
    const value = t.base + t.sign * (now - t.started) / 1000;
    t.element.textContent = clock(value);
    if (t.sign < 0 && value <= 0 && !t.expired) {
      t.expired = true;
      refreshPanel();
    }
  }
}, 250);

// The server ends each stream after a while and the browser reconnects; `onOpen` re-reads what
// may have changed in between.
function listen(url, handlers, onOpen) {
  const source = new EventSource(url);
  for (const [name, handler] of Object.entries(handlers)) source.addEventListener(name, handler);
  let opened = false;
  source.addEventListener("open", () => {
    document.body.classList.remove("offline");
    if (opened) onOpen();
    opened = true;
  });
  source.addEventListener("error", () => document.body.classList.add("offline"));
  return source;
}

// --- the call script, step by step ---------------------------------------------------------

// The step reached on the current call survives the card's re-rendering on each update.
const scriptSteps = {};

function showStep(script, stepId) {
  script.querySelectorAll(".step").forEach((step) => {
    step.hidden = step.dataset.step !== stepId;
  });
}

function restoreStep() {
  const card = document.getElementById("call-card");
  const script = card?.querySelector(".script");
  const stepId = card && scriptSteps[card.dataset.callId];
  if (script && stepId) showStep(script, stepId);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-goto]");
  if (button) {
    const script = button.closest(".script");
    showStep(script, button.dataset.goto);
    const card = button.closest("#call-card");
    if (card) scriptSteps[card.dataset.callId] = button.dataset.goto;
    script.querySelector(".step:not([hidden]) button")?.focus();
    return;
  }
  const tab = event.target.closest("[data-tab]");
  if (tab) showTab(tab.dataset.tab);
});

function showTab(name) {
  document.querySelectorAll("[data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => { t.hidden = t.id !== "tab-" + name; });
  document.querySelector("#tab-" + name + " input:not([type=hidden]), #tab-" + name + " textarea, #tab-" + name + " button")?.focus();
}

// Alt+key presses the button marked data-key="key". Read from the physical key (event.code),
// so the shortcuts work the same with the Russian keyboard layout.
function shortcut(event) {
  if (!event.altKey || event.ctrlKey || event.metaKey) return null;
  if (event.code.startsWith("Key")) return event.code.slice(3).toLowerCase();
  if (event.code.startsWith("Digit")) return event.code.slice(5);
  return null;
}

// Keyboard: Alt+key buttons; "/" searches the FAQ; digits pick a script option on the card.
document.addEventListener("keydown", (event) => {
  const key = shortcut(event);
  if (key) {
    const button = document.querySelector(`[data-key="${key}"]:not([disabled])`);
    if (button) {
      event.preventDefault();
      button.click();
    }
    return;
  }
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName);
  if (event.key === "/" && !typing && document.getElementById("faq-q")) {
    event.preventDefault();
    showTab("faq");
    document.getElementById("faq-q").focus();
  } else if (!typing && !event.altKey && !event.ctrlKey && /^[1-9]$/.test(event.key)) {
    const options = document.querySelectorAll(".script .step:not([hidden]) [data-goto]:not(.restart)");
    options[parseInt(event.key, 10) - 1]?.click();
  }
});

document.addEventListener("DOMContentLoaded", () => {
  startTimers(document);
  fillCurrentCall();
  const page = document.body.dataset.page;
  if (page === "operator") {
    listen("/operator/events", { changed: refreshPanel }, refreshPanel);
  } else if (page === "supervisor") {
    const showLive = (html) => {
      const live = document.getElementById("live");
      live.innerHTML = html;
      startTimers(live);
    };
    const reloadLive = async () => {
      const reply = await fetch("/supervisor/live", { credentials: "same-origin" });
      if (reply.ok) showLive(await reply.text());
    };
    listen("/supervisor/events", { live: (event) => showLive(event.data) }, reloadLive);
  }
});
