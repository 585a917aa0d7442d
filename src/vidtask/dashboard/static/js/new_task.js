// A new task: a prompt, or a timeline (any model's input as JSON) checked by the server as
// you type, the bundled examples to start from, and uploads of local media.

import { api, ApiError } from "./api.js";
import { fill, h, notify } from "./dom.js";

export async function render(root, _params, signal) {
  const [models, examples] = await Promise.all([
    api("/v1/models", { signal }),
    api("/dashboard/examples.json", { signal }),
  ]);
  const model = h("input", { id: "model", name: "model", list: "model-list", value: "timeline", required: true, autocomplete: "off" });
  const modelList = h(
    "datalist",
    { id: "model-list" },
    models.data.filter((m) => !m.id.includes("*")).map((m) => h("option", { value: m.id }, m.description)),
  );
  const modelHelp = h("p", { class: "muted small", id: "model-help" });
  const prompt = h("textarea", { id: "prompt", rows: 4, placeholder: "A cat surfing a wave at sunset" });
  const editor = h("textarea", { id: "input-json", rows: 18, spellcheck: "false", class: "mono", "aria-describedby": "validation" });
  const mode = (value, label, checked) =>
    h("label", { class: "inline" }, h("input", { type: "radio", name: "mode", value, checked }), ` ${label}`);
  const promptBox = h("div", { id: "prompt-box" }, h("label", { for: "prompt" }, "Prompt"), prompt);
  const jsonBox = h(
    "div",
    { id: "json-box", hidden: true },
    h("label", { for: "input-json" }, "Input (JSON) — a timeline for the timeline model"),
    editor,
  );
  const validation = h("p", { id: "validation", role: "status", "aria-live": "polite", class: "muted" });
  const priority = h("input", { id: "priority", type: "number", min: -100, max: 100, value: 0 });
  const webhook = h("input", { id: "webhook-url", type: "url", placeholder: "https://example.com/hook (optional)" });
  const example = h(
    "select",
    { id: "example" },
    h("option", { value: "" }, "start from an example…"),
    examples.data.map((e, i) => h("option", { value: i }, `${e.name} — ${e.description}`)),
  );
  const form = h(
    "form",
    { class: "card", id: "new-task", novalidate: true },
    h("h1", {}, "New task"),
    h("label", { for: "example" }, "Example"),
    example,
    h("label", { for: "model" }, "Model"),
    model,
    modelList,
    modelHelp,
    h("fieldset", {}, h("legend", {}, "Input"), mode("prompt", "Prompt", false), mode("json", "JSON input", true)),
    promptBox,
    jsonBox,
    validation,
    h("details", {}, h("summary", {}, "Priority and webhook"),
      h("label", { for: "priority" }, "Priority (−100 to 100)"), priority,
      h("label", { for: "webhook-url" }, "Webhook URL"), webhook),
    h("button", { type: "submit", id: "submit" }, "Submit"),
  );
  fill(root, form, uploads());

  const currentMode = () => form.querySelector("input[name=mode]:checked").value;
  const showMode = () => {
    promptBox.hidden = currentMode() !== "prompt";
    jsonBox.hidden = currentMode() !== "json";
  };
  for (const radio of form.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      showMode();
      check();
    });
  }
  showMode();

  /** The request body, or throws an ApiError naming the field that is not JSON. */
  const body = () => {
    let input;
    if (currentMode() === "prompt") input = { prompt: prompt.value };
    else {
      try {
        input = JSON.parse(editor.value || "null");
      } catch (error) {
        throw new ApiError(400, { message: `input: not valid JSON (${error.message})`, param: "input" });
      }
    }
    const request = { model: model.value.trim(), input, priority: Number(priority.value) || 0 };
    if (webhook.value.trim()) request.webhook_url = webhook.value.trim();
    return request;
  };

  let asked = 0;
  const check = async () => {
    const ticket = ++asked;
    const described = models.data.find((m) => m.id === model.value.trim());
    modelHelp.textContent = described ? described.description : "";
    try {
      const answer = await api("/v1/tasks/validate", { method: "POST", body: body(), signal });
      if (ticket !== asked) return;
      showValidation(validation, editor, null, answer.model);
    } catch (error) {
      if (ticket !== asked || signal.aborted) return;
      showValidation(validation, editor, error);
    }
  };
  let timer = null;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  };
  for (const field of [model, prompt, editor, webhook, priority]) field.addEventListener("input", soon);

  example.addEventListener("change", () => {
    const chosen = examples.data[Number(example.value)];
    if (!chosen) return;
    model.value = chosen.request.model || "timeline";
    const promptOnly = Object.keys(chosen.request.input).join() === "prompt";
    form.querySelector(`input[name=mode][value=${promptOnly ? "prompt" : "json"}]`).checked = true;
    prompt.value = promptOnly ? chosen.request.input.prompt : "";
    editor.value = JSON.stringify(chosen.request.input, null, 2);
    showMode();
    check();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const task = await api("/v1/tasks", { method: "POST", body: body() });
      notify(`Submitted ${task.id}.`);
      location.hash = `#/tasks/${encodeURIComponent(task.id)}`;
    } catch (error) {
      showValidation(validation, editor, error);
    }
  });

  if (examples.data.length) {
    example.value = "0";
    example.dispatchEvent(new Event("change"));
  }
}

function showValidation(box, editor, error, model) {
  if (!error) {
    box.className = "ok";
    box.textContent = `Valid for ${model}.`;
    editor.removeAttribute("aria-invalid");
    return;
  }
  box.className = "error";
  fill(box, error.param ? h("code", { id: "error-param" }, error.param) : null, error.param ? " " : null, error.message);
  editor.setAttribute("aria-invalid", "true");
}

/** Local files sent to POST /v1/uploads; their paths go in a timeline's `src`. */
function uploads() {
  const file = h("input", { id: "upload", type: "file", accept: "image/*,video/*,audio/*,.srt" });
  const list = h("ul", { id: "uploads", class: "mono small" });
  file.addEventListener("change", async () => {
    for (const chosen of file.files) {
      try {
        const done = await api(`/v1/uploads?filename=${encodeURIComponent(chosen.name)}`, { method: "POST", body: chosen });
        list.append(h("li", {}, `${chosen.name} → `, h("code", {}, done.path)));
        notify(`Uploaded ${chosen.name}: use "${done.path}" as a clip's src.`);
      } catch (error) {
        notify(`${chosen.name}: ${error.message}`, "error");
      }
    }
    file.value = "";
  });
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Upload media"),
    h("p", { class: "muted" }, "Images, video, audio or SRT from this computer, for a timeline's src."),
    h("label", { for: "upload" }, "File"),
    file,
    list,
  );
}
