// Webhook endpoints (with their event filters and a test button) and the delivery log.

import { api } from "./api.js";
import { fill, h, notify, time } from "./dom.js";
import { deliveryTable } from "./task.js";

const EVENTS = ["task.started", "task.progress", "task.completed", "task.failed", "task.cancelled"];

export async function render(root, _params, signal) {
  const endpoints = h("div", { id: "endpoints" });
  const log = h("div", { id: "delivery-log" });
  const refresh = async () => {
    const [found, deliveries] = await Promise.all([
      api("/v1/webhooks", { signal }),
      api("/v1/webhooks/deliveries?limit=100", { signal }),
    ]);
    fill(endpoints, found.data.length ? endpointTable(found.data, refresh) : h("p", { class: "muted" }, "No endpoints."));
    fill(log, deliveries.data.length ? deliveryTable(deliveries.data, signal) : h("p", { class: "muted" }, "No deliveries yet."));
  };
  fill(
    root,
    h("h1", {}, "Webhooks"),
    h("section", { class: "card" }, h("h2", {}, "Endpoints"), endpoints, createForm(refresh)),
    h("section", { class: "card" }, h("h2", {}, "Delivery log"), log),
  );
  await refresh();
}

function endpointTable(items, refresh) {
  const row = (endpoint) =>
    h(
      "tr",
      {},
      h("td", { dataset: { label: "URL" }, class: "mono small" }, endpoint.url, h("div", { class: "muted small" }, endpoint.description)),
      h("td", { dataset: { label: "Events" } }, endpoint.events.join(", ")),
      h("td", { dataset: { label: "Created" } }, time(endpoint.created_at)),
      h(
        "td",
        {},
        h("button", {
          type: "button",
          "aria-label": `send a test event to ${endpoint.url}`,
          onclick: () =>
            attempt(async () => {
              await api(`/v1/webhooks/${encodeURIComponent(endpoint.id)}/test`, { method: "POST" });
              notify("Test event queued; it appears in the delivery log.");
              await refresh();
            }),
        }, "Test"),
        " ",
        h("button", {
          type: "button",
          class: "danger",
          "aria-label": `remove ${endpoint.url}`,
          onclick: () =>
            attempt(async () => {
              if (!confirm(`Remove the endpoint ${endpoint.url}?`)) return;
              await api(`/v1/webhooks/${encodeURIComponent(endpoint.id)}`, { method: "DELETE" });
              await refresh();
            }),
        }, "Remove"),
      ),
    );
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ["URL", "Events", "Created", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map(row)),
  );
}

/** Run a button's action; a failure is shown, not lost. */
async function attempt(action) {
  try {
    await action();
  } catch (error) {
    notify(error.message, "error");
  }
}

function createForm(refresh) {
  const url = h("input", { id: "endpoint-url", type: "url", required: true, placeholder: "https://example.com/vidtask" });
  const description = h("input", { id: "endpoint-description", maxlength: 500 });
  const boxes = EVENTS.map((e) =>
    h("label", { class: "inline" }, h("input", { type: "checkbox", name: "events", value: e, checked: true }), ` ${e}`),
  );
  const secret = h("p", { id: "endpoint-secret", role: "status", "aria-live": "polite" });
  const form = h(
    "form",
    { id: "new-endpoint" },
    h("h3", {}, "Add an endpoint"),
    h("label", { for: "endpoint-url" }, "URL"),
    url,
    h("label", { for: "endpoint-description" }, "Description"),
    description,
    h("fieldset", {}, h("legend", {}, "Events"), boxes),
    h("button", { type: "submit" }, "Add endpoint"),
    secret,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const events = [...form.querySelectorAll("input[name=events]:checked")].map((box) => box.value);
    try {
      const created = await api("/v1/webhooks", {
        method: "POST",
        body: { url: url.value.trim(), events, description: description.value },
      });
      fill(secret, "Signing secret (shown once): ", h("code", {}, created.secret));
      url.value = "";
      await refresh();
    } catch (error) {
      fill(secret, h("span", { class: "error" }, error.param ? `${error.param}: ` : "", error.message));
    }
  });
  return form;
}
