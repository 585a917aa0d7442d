// The task list: filters in the address, cursor paging, and live rows from /v1/events.

import { api, follow } from "./api.js";
import { TERMINAL, duration, fill, h, progressBar, seconds, statusTag, time } from "./dom.js";

const STATUSES = ["queued", "in_progress", "completed", "failed", "cancelled"];
const PAGE = 50;

export async function render(root, { params }, signal) {
  const filters = {
    status: params.get("status") || "",
    model: params.get("model") || "",
    q: params.get("q") || "",
  };
  const models = (await api("/v1/models", { signal })).data.filter((m) => !m.id.includes("*"));
  const body = h("tbody", { id: "task-rows" });
  const more = h("button", { type: "button", id: "more", hidden: true }, "Older tasks");
  const rows = new Map();
  let cursor = null;
  // Tasks made after the first page was read are added at the top as they appear.
  let newest = "";

  const form = filterForm(filters, models);
  fill(
    root,
    h("h1", {}, "Tasks"),
    form,
    h(
      "table",
      { class: "tasks" },
      h("caption", { class: "sr-only" }, "Tasks, newest first, updating live"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Task", "Status", "Progress", "ETA", "Created", "Finished", "Took", ""].map((t) =>
            h("th", { scope: "col" }, t),
          ),
        ),
      ),
      body,
    ),
    h("p", { class: "empty muted", id: "no-tasks", hidden: true }, "No tasks yet."),
    more,
  );

  const query = (after) => {
    const q = new URLSearchParams({ limit: PAGE });
    if (filters.status) q.set("status", filters.status);
    if (filters.model) q.set("model", filters.model);
    if (filters.q) q.set("id_prefix", filters.q);
    if (after) q.set("after", after);
    return `/v1/tasks?${q}`;
  };
  let loading = false;
  const load = async () => {
    if (loading) return; // a second click would read the same page twice
    loading = true;
    try {
      await loadPage();
    } finally {
      loading = false;
    }
  };
  const loadPage = async () => {
    const page = await api(query(cursor), { signal });
    for (const task of page.data) {
      if (task.created_at > newest) newest = task.created_at;
      const row = taskRow(task);
      rows.set(task.id, row);
      body.append(row);
    }
    cursor = page.next_cursor;
    more.hidden = !page.has_more;
    root.querySelector("#no-tasks").hidden = rows.size > 0;
  };
  more.addEventListener("click", () => load());
  await load();

  // Many tasks can change at once: keep only the newest state of each and draw once a frame.
  const pending = new Map();
  let scheduled = false;
  const draw = () => {
    scheduled = false;
    body.dataset.draws = Number(body.dataset.draws || 0) + 1;
    for (const task of pending.values()) {
      const old = rows.get(task.id);
      if (old) {
        const row = taskRow(task);
        old.replaceWith(row);
        rows.set(task.id, row);
      } else if (matches(task, filters) && task.created_at >= newest) {
        const row = taskRow(task);
        rows.set(task.id, row);
        body.prepend(row);
      }
    }
    pending.clear();
    root.querySelector("#no-tasks").hidden = rows.size > 0;
  };
  follow(
    "/v1/events",
    ({ data }) => {
      if (!data || data.object !== "task") return;
      const seen = pending.get(data.id);
      if (!seen || seen.version < data.version) pending.set(data.id, data);
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(draw);
      }
    },
    { signal },
  );
}

function matches(task, filters) {
  return (
    (!filters.status || task.status === filters.status) &&
    (!filters.model || task.model === filters.model) &&
    (!filters.q || task.id.startsWith(filters.q))
  );
}

function filterForm(filters, models) {
  const status = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "" }, "any status"),
    STATUSES.map((s) => h("option", { value: s, selected: s === filters.status }, s.replace("_", " "))),
  );
  const model = h(
    "select",
    { id: "filter-model", name: "model" },
    h("option", { value: "" }, "any model"),
    models.map((m) => h("option", { value: m.id, selected: m.id === filters.model }, m.id)),
  );
  const search = h("input", {
    id: "filter-id",
    name: "q",
    type: "search",
    value: filters.q,
    placeholder: "task id starts with…",
    pattern: "[A-Za-z0-9_\\-]{1,64}",
  });
  const form = h(
    "form",
    { class: "filters", role: "search" },
    h("label", { for: "filter-status" }, "Status"),
    status,
    h("label", { for: "filter-model" }, "Model"),
    model,
    h("label", { for: "filter-id" }, "Search"),
    search,
    h("button", { type: "submit" }, "Filter"),
  );
  const apply = (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (model.value) q.set("model", model.value);
    if (search.value.trim()) q.set("q", search.value.trim());
    location.hash = `#/?${q}`;
  };
  form.addEventListener("submit", apply);
  status.addEventListener("change", apply);
  model.addEventListener("change", apply);
  return form;
}

function taskRow(task) {
  const upstream = task.upstream ? ` via ${task.upstream.provider}` : "";
  const finished = TERMINAL.includes(task.status);
  const cover = task.status === "completed" && task.result && task.result.cover_url;
  return h(
    "tr",
    { id: `task-${task.id}`, dataset: { status: task.status, version: task.version } },
    h(
      "td",
      { dataset: { label: "Task" } },
      h("a", { href: `#/tasks/${encodeURIComponent(task.id)}`, class: "mono" }, task.id),
      h("div", { class: "muted small" }, task.model + upstream),
    ),
    h("td", { dataset: { label: "Status" } }, statusTag(task.status), h("div", { class: "muted small" }, task.stage || "")),
    h("td", { dataset: { label: "Progress" } }, progressBar(task), h("span", { class: "small" }, ` ${task.progress}%`)),
    h("td", { dataset: { label: "ETA" } }, finished ? "" : seconds(task.eta_seconds)),
    h("td", { dataset: { label: "Created" } }, time(task.created_at)),
    h("td", { dataset: { label: "Finished" } }, finished ? time(task.completed_at) : ""),
    h("td", { dataset: { label: "Took" } }, seconds(duration(task))),
    h(
      "td",
      { class: "thumb" },
      cover ? h("img", { src: cover, alt: `cover of ${task.id}`, loading: "lazy", width: 96, height: 54 }) : null,
    ),
  );
}
