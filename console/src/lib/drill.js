// Drill-down (穿透查看): from a statistical report's figure or chart segment to the query
// report rows behind it. The drill keeps the report's period and adds the row's person,
// region or type; the dashboard's charts and the report pages share it.
const byPerson = row => ({ person_id: row.person_id });

// For each statistical report: which figure opens which query report, with which filters.
export const DRILL = {
  "S-6": { new_customers: ["Q-1", byPerson], visits: ["Q-3", byPerson], deal_amount: ["Q-6", byPerson], collected_amount: ["Q-5", byPerson] },
  "S-7": { new_customers: ["Q-1", byPerson], visits: ["Q-3", byPerson], deal_amount: ["Q-6", byPerson], collected_amount: ["Q-5", byPerson] },
  "S-9": { deal_amount: ["Q-6", byPerson] },
  "S-10": { deal_amount: ["Q-6", row => ({ person_id: row.person_id, region: row.region })] },
  "S-11": { deal_amount: ["Q-6", row => ({ region: row.region })] },
  "S-3": { visits: ["Q-3", row => ({ region: row.region })] },
};

// The address of the rows behind one figure of one row, or null when the figure has none.
export function figureDrill(id, key, row, period) {
  const entry = (DRILL[id] || {})[key];
  if (!entry) return null;
  const [target, extra] = entry;
  return { path: `/reports/${target}`, query: { year: period && period.year, month: (period && period.month) || undefined, ...extra(row) } };
}

// The address of the rows behind a chart's point, bar or slice (`{x, series, index}`): S-8's
// line is by month (and person); the others' segments are a row's label, the series a person.
export function chartDrill(id, report, point) {
  const period = report.period || {};
  const person = report.rows.find(row => row.person_name === point.series);
  if (id === "S-8") {
    return { path: "/reports/Q-6", query: { year: period.year, month: point.index + 1,
                                            ...(person ? { person_id: person.person_id } : {}) } };
  }
  const keys = Object.keys(DRILL[id] || {});
  if (!keys.length) return null;
  const labelled = report.rows.filter(row => Object.values(row).includes(point.x));
  const row = labelled.find(r => !point.series || r.person_name === point.series) || labelled[0];
  if (!row) return null;
  const drilled = figureDrill(id, keys.includes("deal_amount") ? "deal_amount" : keys[0], row, period);
  // A bar of several people's (a region's total) is the region's, not one person's.
  if (drilled && !person && drilled.query.person_id && point.series) delete drilled.query.person_id;
  return drilled;
}
