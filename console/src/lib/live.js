// Colleagues' changes as they happen: the service's Server-Sent Events stream, opened with a
// single-use ticket (docs/api.md, Live updates). Views subscribe to the kinds they show.
import { post, session } from "./api.js";

const listeners = new Set();
let source = null;
let lastId = "";
let retry = null;

export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function tell(changes, position) {
  for (const listener of listeners) listener(changes, position);
}

export async function follow() {
  stop();
  if (!session.token) return;
  let ticket;
  try {
    ({ ticket } = await post("/stream/tickets"));
  } catch {
    retry = setTimeout(follow, 5000);
    return;
  }
  const url = `/api/v1/stream?ticket=${encodeURIComponent(ticket)}` +
    (lastId ? `&last_event_id=${encodeURIComponent(lastId)}` : "");
  source = new EventSource(url);
  source.addEventListener("change", event => {
    lastId = event.lastEventId;
    const data = JSON.parse(event.data);
    if (data.position > session.position) session.position = data.position;
    tell(data.changes, data.position);
  });
  source.addEventListener("reset", event => {
    lastId = event.lastEventId;
    tell(null, JSON.parse(event.data).position);
  });
  source.addEventListener("end", () => stop());
  source.onerror = () => {
    stop();
    retry = setTimeout(follow, 2000);
  };
}

export function stop() {
  if (retry) clearTimeout(retry);
  retry = null;
  if (source) source.close();
  source = null;
}
