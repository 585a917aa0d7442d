// The dashboard's shell: sign in, the navigation, and which page the address shows.
// Pages live at #/ (tasks), #/tasks/<id>, #/new and #/webhooks; each is a module whose
// `render(root, params, signal)` fills `root` and stops its streams when `signal` aborts.

import { api, ApiError, session } from "./api.js";
import { fill, h } from "./dom.js";
import * as newTask from "./new_task.js";
import * as task from "./task.js";
import * as tasks from "./tasks.js";
import * as webhooks from "./webhooks.js";

const PAGES = [
  [/^#\/tasks\/([^/?]+)$/, task, "Task"],
  [/^#\/new$/, newTask, "New task"],
  [/^#\/webhooks$/, webhooks, "Webhooks"],
  [/^#\/?(\?.*)?$/, tasks, "Tasks"],
];

let current = new AbortController();

function shell() {
  const nav = h(
    "nav",
    { "aria-label": "Main" },
    h("a", { href: "#/", class: "brand" }, "vidtask"),
    h("a", { href: "#/", dataset: { page: "Tasks" } }, "Tasks"),
    h("a", { href: "#/new", dataset: { page: "New task" } }, "New task"),
    h("a", { href: "#/webhooks", dataset: { page: "Webhooks" } }, "Webhooks"),
    session.key
      ? h("button", { type: "button", class: "link", id: "sign-out", onclick: signOut }, "Sign out")
      : null,
  );
  fill(
    document.body,
    h("header", {}, nav),
    h("div", { id: "notice", role: "status", "aria-live": "polite" }),
    h("main", { id: "view", tabindex: "-1" }),
  );
}

async function show() {
  current.abort();
  current = new AbortController();
  const hash = location.hash || "#/";
  const [pattern, page, title] = PAGES.find(([p]) => p.test(hash)) || PAGES[PAGES.length - 1];
  const match = hash.match(pattern) || [];
  const params = new URLSearchParams(hash.split("?")[1] || "");
  document.title = `${title} · vidtask`;
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    if (link.dataset.page === title) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = document.getElementById("view");
  fill(root, h("p", { class: "muted" }, "Loading…"));
  try {
    await page.render(root, { id: match[1] && decodeURIComponent(match[1]), params }, current.signal);
  } catch (error) {
    if (current.signal.aborted) return;
    fill(root, h("p", { class: "error", role: "alert" }, error.message));
  }
}

function signInPage(problem) {
  shell();
  const key = h("input", {
    id: "api-key",
    type: "password",
    autocomplete: "current-password",
    required: true,
    spellcheck: "false",
  });
  const form = h(
    "form",
    { class: "card narrow", id: "sign-in" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Use a vidtask API key (vidtask keys create). It stays in this browser."),
    h("label", { for: "api-key" }, "API key"),
    key,
    problem ? h("p", { class: "error", role: "alert" }, problem) : null,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    session.key = key.value.trim();
    await start();
  });
  fill(document.getElementById("view"), form);
  key.focus();
}

function signOut() {
  session.key = "";
  start();
}

/** Open the dashboard if the API lets this browser in (a key, or none needed on loopback). */
async function start() {
  try {
    await api("/v1/models", { signingIn: true });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const hadKey = Boolean(session.key);
      session.key = "";
      signInPage(hadKey ? `That key was refused: ${error.message}` : null);
      return;
    }
    throw error;
  }
  shell();
  await show();
}

window.addEventListener("hashchange", show);
window.addEventListener("vidtask:unauthorized", () => {
  current.abort();
  start();
});
start();
