// Plain-text views of a record and of a verification, as ballot/tally/report.py: the
// checklist (the same lines as `ballot verify`) and the results table.

import { parseFractionText, percent } from "./fraction.js";

const pad = (s, w, right = false) => {
  s = String(s);
  const n = [...s].length;
  return n >= w ? s : right ? " ".repeat(w - n) + s : s + " ".repeat(w - n);
};

/** checklist(report): the lines `ballot verify` prints. */
export function checklist(report) {
  const lines = ["Kiểm tra hồ sơ bầu cử / Verification of the election record:"];
  for (const c of report.checks) lines.push(`  [${c.ok ? "✓" : "✗"}] ${c.title}: ${c.detail}`);
  if (report.ok) lines.push("KẾT QUẢ: HỢP LỆ — every check passed.");
  else {
    const f = report.firstFailure;
    lines.push(`KẾT QUẢ: KHÔNG HỢP LỆ — first failing check: ${f ? f.title : "none run"}`);
  }
  return lines.join("\n");
}

/** results_table(record): units with votes per level (and % of N), the result and its rule. */
export function resultsTable(record, { limit = null } = {}) {
  const manifest = record.manifest;
  const codes = manifest.levels.map((lv) => lv.code);
  const names = new Map(manifest.units.map((u) => [u.unit_id, u.name]));
  const results = record.results;
  const rows = limit ? results.units.slice(0, limit) : results.units;
  const nameW = Math.max(...rows.map((r) => [...names.get(r.unit_id)].length), 8);
  const head = `${pad("#", 3, true)}  ${pad("Đơn vị / Unit", nameW)}  ` + codes.map((c) => pad(c, 13, true)).join("  ") +
    `  ${pad("Bỏ qua", 6, true)}  Kết quả / Result`;
  const lines = [`N = ${results.base} (${results.base_text.vi})`, head, "─".repeat([...head].length)];
  rows.forEach((r, i) => {
    const votes = r.counts.votes;
    const cells = codes.map((c) => `${pad(votes[c] || 0, 4, true)} (${pad(percent(parseFractionText(r.shares[c] ?? null)), 6, true)})`).join("  ");
    lines.push(`${pad(i + 1, 3, true)}  ${pad(names.get(r.unit_id), nameW)}  ${cells}  ${pad(r.counts.abstain, 6, true)}  ${r.level || "—"} · ${r.outcome}`);
  });
  if (limit && results.units.length > limit) lines.push(`… ${results.units.length - limit} more units in the record`);
  const summary = new Map();
  for (const r of results.units) {
    const k = r.level || r.outcome;
    summary.set(k, (summary.get(k) || 0) + 1);
  }
  lines.push("Tổng hợp / Summary: " + [...summary].map(([k, v]) => `${k}: ${v}`).join(", "));
  for (const g of results.quota || []) {
    lines.push(`Quota (${g.group || "all"}): n = ${g.n}, X_max = ${g.x_max === null ? "None" : g.x_max}; kept ${g.kept.length}, cut ${g.cut.length}, tied ${g.tied.length} — ${g.text.vi}`);
  }
  return lines.join("\n");
}
