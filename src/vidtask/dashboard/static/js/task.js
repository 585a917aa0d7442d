// One task: live status, preview frames, the video, its event timeline, webhook deliveries,
// actions, and how each API dialect answers it.

import { api, follow } from "./api.js";
import { TERMINAL, duration, fill, h, json, notify, progressBar, seconds, statusTag, time } from "./dom.js";


export async function render(root, { id }, signal) {
  const path = `/v1/tasks/${encodeURIComponent(id)}`;
  let task = await api(path, { signal });
  const summary = h("section", { class: "card summary", "aria-labelledby": "task-title" });
  const actions = h("div", { class: "actions", role: "group", "aria-label": "Task actions" });
  const media = h("section", { class: "card", "aria-label": "Result" });
  const previews = h("div", { class: "previews", id: "previews" });
  const events = h("ol", { class: "timeline", id: "events" });
  const deliveries = h("div", { id: "deliveries" });
  const dialects = h("div", { id: "dialects" });
  const input = h("div", { id: "task-input" });
  fill(
    root,
    h("p", {}, h("a", { href: "#/" }, "← Tasks")),
    summary,
    actions,
    media,
    h("section", { class: "card" }, h("h2", {}, "Preview frames"), previews),
    h("section", { class: "card" }, h("h2", {}, "Input"), input),
    h("section", { class: "card" }, h("h2", {}, "Events"), events),
    h("section", { class: "card" }, h("h2", {}, "Webhook deliveries"), deliveries),
    h("section", { class: "card" }, h("h2", {}, "How clients see it"), dialects),
  );

  const shownPreviews = new Set();
  let dialectsTimer = null;
  const update = (next) => {
    if (next.version < task.version) return;
    task = next;
    drawSummary(summary, task);
    drawActions(actions, task, path);
    drawMedia(media, task);
    for (const preview of task.previews || []) {
      if (shownPreviews.has(preview.id)) continue;
      shownPreviews.add(preview.id);
      previews.append(
        h("img", { src: preview.url, alt: `preview frame ${preview.id}`, class: "preview", loading: "lazy" }),
      );
    }
    if (!previews.children.length) fill(previews, h("p", { class: "muted" }, "None yet."));
    else previews.querySelector("p")?.remove();
    clearTimeout(dialectsTimer);
    dialectsTimer = setTimeout(() => drawDialects(dialects, path, signal), 300);
  };
  update(task);
  drawDeliveries(deliveries, task.id, signal);
  api(`${path}/input`, { signal }).then(
    (request) => fill(input, json(request)),
    (error) => fill(input, h("p", { class: "error" }, error.message)),
  );

  follow(
    `${path}/events?after=0`,
    ({ event, data, id: version }) => {
      events.append(
        h(
          "li",
          { dataset: { version } },
          h("time", { datetime: data.updated_at }, time(data.updated_at)),
          " ",
          h("strong", {}, event),
          ` ${data.status}${data.stage ? ` · ${data.stage}` : ""} · ${data.progress}%`,
        ),
      );
      update(data);
      if (TERMINAL.includes(data.status)) drawDeliveries(deliveries, data.id, signal);
    },
    { signal, once: true },
  );
}

function drawSummary(section, task) {
  const upstream = task.upstream
    ? [
        ["Provider", task.upstream.provider],
        ["Upstream task", task.upstream.task_id],
        ["Place in queue", task.upstream.queue_position],
      ]
    : [];
  const logs = (task.upstream && task.upstream.logs) || [];
  const rows = [
    ["Model", task.model],
    ...upstream,
    ["Stage", task.stage || ""],
    ["ETA", TERMINAL.includes(task.status) ? "" : seconds(task.eta_seconds)],
    ["Created", time(task.created_at)],
    ["Started", time(task.started_at)],
    ["Finished", time(task.completed_at)],
    ["Took", seconds(duration(task))],
    ["Attempt", task.attempt],
    ["Version", task.version],
  ];
  fill(
    section,
    h("h1", { id: "task-title", class: "mono" }, task.id),
    h(
      "p",
      {},
      h("span", { id: "task-status" }, statusTag(task.status)),
      " ",
      progressBar(task, "task progress"),
      h("span", { id: "task-progress" }, ` ${task.progress}%`),
    ),
    h(
      "dl",
      { class: "facts" },
      rows.filter(([, v]) => v !== "" && v !== null && v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    task.error
      ? h(
          "div",
          { class: "error", role: "alert", id: "task-error" },
          h("strong", {}, task.error.code),
          ": ",
          task.error.message,
        )
      : null,
    task.warnings && task.warnings.length
      ? h("ul", { class: "warnings", "aria-label": "Warnings" }, task.warnings.map((w) => h("li", {}, w)))
      : null,
    logs.length
      ? h("pre", { class: "logs", id: "upstream-logs", "aria-label": "Provider log" }, logs.join("\n"))
      : null,
  );
}

function drawActions(group, task, path) {
  const done = TERMINAL.includes(task.status);
  const act = (label, handler, attrs = {}) =>
    h("button", { type: "button", onclick: handler, ...attrs }, label);
  fill(
    group,
    done
      ? null
      : act("Cancel", async () => {
          try {
            await api(`${path}/cancel`, { method: "POST" });
            notify("Cancel requested.");
          } catch (error) {
            notify(error.message, "error");
          }
        }, { id: "cancel", disabled: task.cancel_requested }),
    done
      ? act("Delete", async () => {
          if (!confirm(`Delete task ${task.id} and its files?`)) return;
          try {
            await api(path, { method: "DELETE" });
            notify(`Deleted ${task.id}.`);
            location.hash = "#/";
          } catch (error) {
            notify(error.message, "error");
          }
        }, { id: "delete", class: "danger" })
      : null,
    task.result && task.result.video_url
      ? h("a", { class: "button", href: task.result.video_url, download: `${task.id}.mp4`, id: "download" }, "Download")
      : null,
    act("Run again", async () => {
      try {
        const request = await api(`${path}/input`);
        const again = await api("/v1/tasks", { method: "POST", body: request });
        location.hash = `#/tasks/${encodeURIComponent(again.id)}`;
      } catch (error) {
        notify(error.message, "error");
      }
    }, { id: "run-again" }),
  );
}

function drawMedia(section, task) {
  const result = task.result;
  if (!result || !result.video_url) {
    fill(section, h("h2", {}, "Result"), h("p", { class: "muted" }, TERMINAL.includes(task.status) ? "No video." : "Rendering…"));
    return;
  }
  const playing = `${task.id}/${task.attempt}`;
  if (section.dataset.video === playing) return; // keep the player playing
  section.dataset.video = playing;
  const metadata = Object.entries(result.metadata || {});
  fill(
    section,
    h("h2", {}, "Result"),
    h(
      "video",
      { id: "player", controls: true, preload: "metadata", src: result.video_url, poster: result.cover_url || null },
      "Your browser cannot play this video; use Download.",
    ),
    h(
      "div",
      { class: "cover" },
      result.cover_url ? h("img", { src: result.cover_url, alt: "cover", class: "cover-image" }) : null,
      metadata.length
        ? h("dl", { class: "facts", id: "metadata" }, metadata.map(([k, v]) => [h("dt", {}, k), h("dd", {}, shown(v))]))
        : null,
    ),
  );
}

function shown(value) {
  if (value === null || value === undefined) return "—";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

async function drawDeliveries(box, taskId, signal) {
  let page;
  try {
    page = await api(`/v1/webhooks/deliveries?task_id=${encodeURIComponent(taskId)}&limit=100`, { signal });
  } catch (error) {
    fill(box, h("p", { class: "error" }, error.message));
    return;
  }
  if (!page.data.length) {
    fill(box, h("p", { class: "muted" }, "No webhook deliveries for this task."));
    return;
  }
  fill(box, deliveryTable(page.data, signal));
}

/** Deliveries with their attempts on demand and a resend button (shared with the webhooks page). */
export function deliveryTable(items, signal) {
  return h(
    "table",
    { class: "deliveries" },
    h(
      "thead",
      {},
      h("tr", {}, ["Event", "URL", "Status", "Attempts", "Created", ""].map((t) => h("th", { scope: "col" }, t))),
    ),
    h("tbody", {}, items.map((d) => deliveryRow(d, signal))),
  );
}

function deliveryRow(delivery, signal) {
  const log = h("ol", { class: "attempts", hidden: true });
  const showAttempts = async () => {
    if (!log.hidden) {
      log.hidden = true;
      return;
    }
    const full = await api(`/v1/webhooks/deliveries/${encodeURIComponent(delivery.id)}`, { signal });
    fill(
      log,
      full.attempt_log.length
        ? full.attempt_log.map((a) =>
            h("li", {}, `${time(a.at)} · ${a.status_code ?? "no answer"} · ${a.duration_ms} ms${a.error ? ` · ${a.error}` : ""}`),
          )
        : h("li", {}, "No attempt yet."),
    );
    log.hidden = false;
  };
  const resend = async () => {
    try {
      await api(`/v1/webhooks/deliveries/${encodeURIComponent(delivery.id)}/resend`, { method: "POST" });
      notify(`Delivery ${delivery.id} queued again.`);
    } catch (error) {
      notify(error.message, "error");
    }
  };
  return h(
    "tr",
    {},
    h("td", { dataset: { label: "Event" } }, delivery.event_type),
    h("td", { dataset: { label: "URL" }, class: "mono small" }, delivery.url),
    h("td", { dataset: { label: "Status" } }, delivery.status, delivery.last_error ? h("div", { class: "muted small" }, delivery.last_error) : null),
    h("td", { dataset: { label: "Attempts" } }, h("button", { type: "button", class: "link", onclick: showAttempts, "aria-label": `attempts of ${delivery.id}` }, String(delivery.attempts)), log),
    h("td", { dataset: { label: "Created" } }, time(delivery.created_at)),
    h("td", {}, h("button", { type: "button", onclick: resend, "aria-label": `resend ${delivery.id}` }, "Resend")),
  );
}

async function drawDialects(box, path, signal) {
  let answer;
  try {
    answer = await api(`${path}/dialects`, { signal });
  } catch (error) {
    if (!signal.aborted) fill(box, h("p", { class: "error" }, error.message));
    return;
  }
  const names = Object.keys(answer.dialects);
  const chosen = box.querySelector("select")?.value || names[0];
  const picker = h(
    "select",
    { id: "dialect", "aria-label": "Dialect" },
    names.map((n) => h("option", { value: n, selected: n === chosen }, n)),
  );
  const shown = h("div", { id: "dialect-view" }, json(answer.dialects[chosen]));
  picker.addEventListener("change", () => fill(shown, json(answer.dialects[picker.value])));
  fill(
    box,
    h("p", { class: "muted" }, "The task as each API answers a status read: check a client's field mapping here."),
    h("label", { for: "dialect" }, "Dialect "),
    picker,
    shown,
  );
}
