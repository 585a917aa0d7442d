/** The statuses a task ends in. */
export const TERMINAL = ["completed", "failed", "cancelled"];

// Building the page. Text only ever goes in through textContent or attribute values, never
// through innerHTML, so a prompt of `<img src=x onerror=...>` stays text.

/** An element: h("a", {href: "#/"}, "text", child, ...). `on*` attributes take functions. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function time(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

export function seconds(value) {
  if (value === null || value === undefined) return "";
  const s = Math.max(0, Math.round(value));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** How long a task ran (or has been running), in seconds. */
export function duration(task) {
  const start = task.started_at || task.created_at;
  if (!start) return null;
  const end = task.completed_at ? Date.parse(task.completed_at) : Date.now();
  return (end - Date.parse(start)) / 1000;
}

export function statusTag(status) {
  return h("span", { class: `tag tag-${status}` }, status.replace("_", " "));
}

export function progressBar(task, label) {
  return h("progress", {
    max: 100,
    value: task.progress,
    "aria-label": label || `progress of ${task.id}`,
    title: `${task.progress}%`,
  });
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

/** A message in the page's live region (screen readers hear it). */
export function notify(text, kind = "info") {
  const box = document.getElementById("notice");
  if (!box) return;
  fill(box, h("p", { class: `notice notice-${kind}` }, text));
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => box.replaceChildren(), 6000);
}
