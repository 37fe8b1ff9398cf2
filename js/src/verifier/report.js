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

/** What an outcome reads as, in Vietnamese and English (ballot/election/table.py OUTCOME_TEXT). */
export const OUTCOME_TEXT = {
  passed: ["đạt", "passed"],
  no_majority: ["không đủ đa số", "no majority"],
  quorum_failed: ["không đủ số lượng", "quorum failed"],
  cut_by_quota: ["giảm do tỷ lệ", "cut by quota"],
  quota_tie: ["bằng phiếu tại ngưỡng tỷ lệ", "tie at the quota cut"],
  second_round: ["chờ vòng hai", "second round"],
  selected: ["được chọn", "selected"],
  not_selected: ["không được chọn", "not selected"],
  second_round_tie: ["bằng phiếu vòng hai", "tied in the second round"],
};

/**
 * results_table(record, lang): units with votes per level (and % of N), the result and its
 * rule; in Vietnamese (lang "vi", the default here: Vietnamese first) or English ("en").
 */
export function resultsTable(record, { limit = null, lang = "vi" } = {}) {
  const vi = lang === "vi";
  const tr = (v, e) => (vi ? v : e);
  const outcomeText = (o) => (Object.prototype.hasOwnProperty.call(OUTCOME_TEXT, o) ? OUTCOME_TEXT[o] : [o, o])[vi ? 0 : 1];
  const manifest = record.manifest;
  const codes = manifest.levels.map((lv) => lv.code);
  const names = new Map(manifest.units.map((u) => [u.unit_id, u.name]));
  const results = record.results;
  const rows = limit ? results.units.slice(0, limit) : results.units;
  const nameW = Math.max(...rows.map((r) => [...names.get(r.unit_id)].length), 8);
  const head = `${pad("#", 3, true)}  ${pad(tr("Đơn vị", "Unit"), nameW)}  ` + codes.map((c) => pad(c, 13, true)).join("  ") +
    `  ${pad(tr("Không chọn", "Abstain"), 10, true)}  ${tr("Kết quả", "Result")}`;
  const lines = [`N = ${results.base} (${results.base_text[vi ? "vi" : "en"]})`, head, "─".repeat([...head].length)];
  rows.forEach((r, i) => {
    const votes = r.counts.votes;
    const cells = codes.map((c) => `${pad(votes[c] || 0, 4, true)} (${pad(percent(parseFractionText(r.shares[c] ?? null)), 6, true)})`).join("  ");
    lines.push(`${pad(i + 1, 3, true)}  ${pad(names.get(r.unit_id), nameW)}  ${cells}  ${pad(r.counts.abstain, 10, true)}  ${r.level || "—"} · ${outcomeText(r.outcome)}`);
  });
  if (limit && results.units.length > limit) {
    const more = results.units.length - limit;
    lines.push(tr(`… còn ${more} đơn vị trong hồ sơ`, `… ${more} more units in the record`));
  }
  const summary = new Map();
  for (const r of results.units) {
    const k = r.level || outcomeText(r.outcome);
    summary.set(k, (summary.get(k) || 0) + 1);
  }
  lines.push(tr("Tổng hợp: ", "Summary: ") + [...summary].map(([k, v]) => `${k}: ${v}`).join(", "));
  for (const g of results.quota || []) {
    const xmax = g.x_max === null ? "None" : g.x_max;
    lines.push(tr(
      `Tỷ lệ (${g.group || "chung"}): n = ${g.n}, tối đa X = ${xmax}; giữ ${g.kept.length}, chuyển xuống ${g.cut.length}, bằng phiếu ${g.tied.length} — ${g.text.vi}`,
      `Quota (${g.group || "all"}): n = ${g.n}, X_max = ${xmax}; kept ${g.kept.length}, cut ${g.cut.length}, tied ${g.tied.length} — ${g.text.en}`));
  }
  return lines.join("\n");
}
