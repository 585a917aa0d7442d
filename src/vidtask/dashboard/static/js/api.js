// The vidtask API from the page: the key kept in this browser, JSON calls, and event streams.

const KEY = "vidtask.api_key";

export const session = {
  get key() {
    return localStorage.getItem(KEY) || "";
  },
  set key(value) {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  },
};

/** An error answer: the native shape's code, message and field path. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "";
    this.param = error.param || null;
  }
}

function headers(extra = {}) {
  const all = { ...extra };
  if (session.key) all.Authorization = `Bearer ${session.key}`;
  return all;
}

/**
 * Call the API: `body` is sent as JSON unless it is a Blob (an upload). A refused key (401)
 * sends the page back to sign in, except for the sign-in check itself (`signingIn`).
 */
export async function api(path, { method = "GET", body, signal, signingIn = false } = {}) {
  const init = { method, signal, headers: headers() };
  if (body instanceof Blob) {
    init.body = body;
    init.headers["Content-Type"] = "application/octet-stream";
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || { message: text.slice(0, 200) };
    if (response.status === 401 && !signingIn) window.dispatchEvent(new CustomEvent("vidtask:unauthorized"));
    throw new ApiError(response.status, typeof error === "object" ? error : { message: error });
  }
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Follow a server-sent event stream, calling `onEvent({event, id, data})` with parsed JSON.
 * It is read with fetch, not EventSource, so the API key travels in a header. A dropped
 * connection resumes from the last event id; with `once`, a stream the server ends (a task
 * stream ends after the terminal event) is not reopened.
 */
export async function follow(path, onEvent, { signal, once = false, lastId = null } = {}) {
  while (!signal.aborted) {
    try {
      const extra = { Accept: "text/event-stream" };
      if (lastId !== null) extra["Last-Event-ID"] = lastId;
      const response = await fetch(path, { headers: headers(extra), signal });
      if (response.status === 401) {
        window.dispatchEvent(new CustomEvent("vidtask:unauthorized"));
        return;
      }
      if (response.status >= 400 && response.status < 500) return; // gone, or not ours: stop
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (message.id !== null) lastId = message.id;
          if (message.data !== null) onEvent(message);
        }
      }
      if (once) return;
    } catch (error) {
      if (signal.aborted) return;
      console.warn(`${path}: ${error}`);
    }
    await sleep(1500);
  }
}

function parse(block) {
  const message = { event: "message", id: null, data: null };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") message.event = value;
    else if (field === "id") message.id = value;
  }
  if (data.length) message.data = JSON.parse(data.join("\n"));
  return message;
}
