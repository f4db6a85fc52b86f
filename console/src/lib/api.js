// The console's only way to the service: the public HTTP API under /api/v1, as any internal
// frontend would use it (docs/api.md). A bearer token, X-Min-Position to read its own writes,
// the contract's error codes and messages.
import { reactive } from "vue";

const BASE = "/api/v1";
const TOKEN_KEY = "crm_console_token";

export const session = reactive({
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  me: null,
  // The newest position this tab wrote: every read waits for the read models to reach it.
  position: 0,
});

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.field = error.field || null;
    this.details = error.details || {};
  }
}

function remember(body) {
  if (body && typeof body.position === "number" && body.position > session.position) {
    session.position = body.position;
  }
}

export async function request(method, path, { query, json, form, headers } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const sent = { "Accept-Language": "zh-CN", ...(headers || {}) };
  if (session.token) sent.Authorization = `Bearer ${session.token}`;
  if (method === "GET" && session.position) sent["X-Min-Position"] = String(session.position);
  let body;
  if (json !== undefined) {
    sent["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(url, { method, headers: sent, body });
  const text = await response.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = null; }
  }
  if (!response.ok) {
    if (response.status === 401 && path !== "/auth/token") signOutLocally();
    throw new ApiError(response.status, parsed);
  }
  remember(parsed);
  return parsed;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, json) => request("POST", path, { json });

export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const token = await request("POST", "/auth/token", { form });
  session.token = token.access_token;
  sessionStorage.setItem(TOKEN_KEY, session.token);
  await loadMe();
}

export async function loadMe() {
  session.me = await get("/me");
  return session.me;
}

export function signOutLocally() {
  session.token = "";
  session.me = null;
  session.position = 0;
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function signOut() {
  try { await request("POST", "/auth/logout"); } catch { /* the session is ended either way */ }
  signOutLocally();
}

export function hasRole(...roles) {
  const mine = (session.me && session.me.roles) || [];
  return roles.some(role => mine.includes(role));
}

// A file the service answers (an export), fetched with the bearer token and saved from a
// blob: address under the name the service gives it (`fallback` when it gives none). Throws
// the contract's error as `ApiError`.
export async function download(path, query, fallback) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const response = await fetch(url, { headers: { Authorization: `Bearer ${session.token}`, "Accept-Language": "zh-CN" } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = named ? named[1] : fallback;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}
