// How the console shows the contract's values: money as the API's decimal strings with
// thousands separators, moments in the browser's locale, names never as HTML (the templates
// only ever interpolate text).
export function money(value) {
  if (value === null || value === undefined || value === "") return "—";
  const [whole, fraction = ""] = String(value).split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${sign}¥${digits}.${(fraction + "00").slice(0, 2)}`;
}

export function moment(value) {
  if (!value) return "—";
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? String(value) : at.toLocaleString("zh-CN", { hour12: false });
}

export function percent(value) {
  if (value === null || value === undefined) return "—";
  return `${(Number(value) * 100).toFixed(1)}%`;
}

// Today's date in the browser's time zone, as the contract writes dates (YYYY-MM-DD).
export function today() {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

// A unit cost as the stock keeps it (four decimals), shown with the trailing zeros of the
// fraction dropped past the cents: ¥4,210.8696, ¥18,000.00.
export function cost(value) {
  if (value === null || value === undefined || value === "") return "—";
  const [whole, fraction = ""] = String(value).split(".");
  const cents = (fraction + "00").slice(0, 2);
  const rest = fraction.slice(2).replace(/0+$/, "");
  return money(`${whole}.${cents}`) + rest;
}
