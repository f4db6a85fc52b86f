// The rules and dictionaries (GET /settings), read once per tab and again after a change to
// them anywhere (the live stream names the settings' kind), for the views' choices.
import { get } from "./api.js";
import { onChange } from "./live.js";

let cached = null;

export function settings() {
  if (!cached) cached = get("/settings").catch(failure => { cached = null; throw failure; });
  return cached;
}

export function forgetSettings() {
  cached = null;
}

onChange(changes => {
  if (!changes || changes.some(c => c.kind === "settings")) cached = null;
});
