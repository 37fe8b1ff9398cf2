// The verifier page (ballot/web/templates/verify.html): open a record (file picker, drag and
// drop, or the published meeting's record when served at /verify/<slug>), verify it in Web
// Workers with a progress bar per phase, show the verdict, every check line (the same text as
// `ballot verify`), the results table with per-level bars, and check a receipt. Vietnamese
// first, English second. Nothing is fetched but the record the observer asks for.

import { ready } from "../sodium.js";
import { sha256Plain } from "../encoding.js";
import { toHex } from "../bytes.js";
import { verifyRecord, PHASES, runBallotsHere } from "./checks.js";
import { verifyLink, isSecondRound } from "./link.js";
import { checklist, resultsTable } from "./report.js";
import { loadRecord } from "./record.js";
import { checkReceiptIn, parseReceiptInput } from "./receipt.js";
import { runBallotsInWorkers } from "./pool.js";
import { parseFractionText, percent } from "./fraction.js";

const S = {
  title: ["Kiểm tra hồ sơ bầu cử", "Verify an election record"],
  intro: ["Trang này kiểm tra toàn bộ hồ sơ bầu cử ngay trên máy của bạn: không cài đặt, không gửi gì đi.",
    "This page checks the whole election record on your own device: nothing to install, nothing sent anywhere."],
  open: ["Mở tệp hồ sơ (.record.json) hoặc kéo thả vào đây", "Open the record file (.record.json) or drop it here"],
  first: ["Vòng một (chỉ cho hồ sơ vòng hai)", "First round (only for a second-round record)"],
  url: ["hoặc địa chỉ hồ sơ đã công bố", "or the address of a published record"],
  load: ["Tải và kiểm tra", "Load and verify"],
  again: ["Kiểm tra lại", "Verify again"],
  phase_setup: ["Danh mục, khóa, phiếu phát ra", "Manifest, keys, tokens"],
  phase_ballots: ["Phiếu (chữ ký, chứng minh)", "Ballots (signatures, proofs)"],
  phase_tally: ["Kiểm phiếu và kết quả", "Tally and results"],
  workers: ["luồng", "workers"],
  ok: ["HỢP LỆ — mọi bước kiểm tra đều đạt", "VALID — every check passed"],
  bad: ["KHÔNG HỢP LỆ — bước không đạt đầu tiên:", "NOT VALID — first failing check:"],
  unreadable: ["Không đọc được hồ sơ:", "Cannot read the record:"],
  checks: ["Các bước kiểm tra", "Checks"],
  results: ["Kết quả", "Results"],
  unit: ["Đơn vị / người", "Unit"],
  abstain: ["Bỏ qua", "Abstain"],
  result: ["Kết quả", "Result"],
  rule: ["Căn cứ", "Rule"],
  notVerified: ["Hồ sơ không hợp lệ: bảng dưới đây là điều hồ sơ ghi, chưa được xác nhận.",
    "The record does not verify: the table below is what the record says, not confirmed."],
  receipt: ["Kiểm tra biên nhận", "Check a receipt"],
  receiptHelp: ["Dán mã theo dõi (XXXX-XXXX-XXXX-XXXX) hoặc mở tệp biên nhận đã lưu trên điện thoại.",
    "Paste a tracking code (XXXX-XXXX-XXXX-XXXX) or open the receipt file saved on the phone."],
  receiptCheck: ["Kiểm tra", "Check"],
  receiptFirst: ["Hãy kiểm tra hồ sơ trước.", "Verify a record first."],
  counted: ["Phiếu có trong bảng tin và đã được kiểm (hồ sơ hợp lệ).", "The ballot is on the board and was counted (the record verifies)."],
  notCounted: ["Không xác nhận được phiếu đã được kiểm.", "The ballot cannot be confirmed as counted."],
  notPublished: ["Hồ sơ của cuộc họp này chưa được công bố (sau khi kiểm phiếu xong).", "This meeting's record is not published yet (it is written when the tally is finished)."],
  elapsed: ["Thời gian", "Time"],
};

const CHECK_VI = {
  manifest: "Danh mục bầu cử", manifest_binding: "Danh mục gắn với lễ tạo khóa", ceremony: "Lễ tạo khóa",
  base_hash: "Dấu vân tay cuộc bầu", issuance: "Sổ phát phiếu", board: "Bảng tin", board_count: "Số phiếu ≤ số phiếu phát",
  ballots: "Phiếu (mã, chữ ký, chứng minh)", limits: "Chọn tối đa K (vòng hai)", tokens_unique: "Không mã nào dùng hai lần",
  chain: "Chuỗi băm bảng tin", aggregate: "Tổng mã hóa của bảng tin", decryption: "Giải mã từng phần", electronic_counts: "Số phiếu điện tử",
  counts: "Số phiếu (điện tử + giấy)", figures: "Số liệu hội nghị", results: "Kết quả theo quy tắc",
  link_round_two: "Danh mục vòng hai", link_record_sha256: "Tệp hồ sơ vòng một (SHA-256)", link_manifest_hash: "Danh mục vòng một",
  link_ballots: "Phiếu vòng hai (nhóm, ứng viên, K)", link_base: "N của vòng một", link_names: "Tên ứng viên",
  first_round_record: "Hồ sơ vòng một hợp lệ",
  format: "Định dạng hồ sơ (phiên bản, trường, JSON chuẩn, thứ tự)", receipt_key: "Khóa ký biên nhận gắn với cuộc bầu",
  approvals: "Các ủy viên ban kiểm phiếu phê duyệt dấu vân tay", paper_instead: "Thẻ đã gác lại (đã nhận thẻ, bỏ phiếu giấy)",
  excess: "Số phiếu điện tử không vượt số thẻ còn hiệu lực (không thừa phiếu)", board_status: "Kiểm tra lại trạng thái từng phiếu",
  close: "Kết thúc bỏ phiếu: số có mặt, số liệu phiếu giấy, đầu chuỗi bảng tin",
  audit_order: "Thứ tự nhật ký: số liệu chốt trước khi giải mã",
  link_inherited: "Kế thừa từ vòng một (danh sách, ban kiểm phiếu, N, số lượng, ngưỡng)",
};

const RECEIPT_VI = { signature: "Chữ ký máy chủ", election: "Cuộc bầu", on_board: "Trên bảng tin", position: "Vị trí", entry_hash: "Mã băm mục", status: "Trạng thái phiếu" };

let lang = "vi";
const $ = (id) => document.getElementById(id);
const t = (key) => S[key][lang === "vi" ? 0 : 1];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function translate() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-s]")) node.textContent = t(node.dataset.s);
  for (const node of document.querySelectorAll("[data-ph]")) node.placeholder = t(node.dataset.ph);
  for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
  if (last) show(last);
}

/** The text of the bundle, for the workers' Blob URL (no request: it is already in the page). */
function bundleSource() {
  const s = $("ballot-verifier");
  return s ? s.textContent : null;
}

let last = null;
let busy = false;

/** A phase is over: its bar full, its count kept (the ballots' "N/N"). */
function finishPhase(name) {
  const bar = $(`phase-${name}`);
  if (!bar) return;
  bar.value = bar.max;
  const n = $(`phase-${name}-n`);
  if (n.textContent) n.textContent = `${bar.max}/${bar.max}`;
}

function setPhase(name, done, total) {
  const bar = $(`phase-${name}`);
  if (!bar) return;
  bar.max = total || 1;
  bar.value = done;
  $(`phase-${name}-n`).textContent = total ? `${done}/${total}` : "";
}

let pending = null;

async function verifyBytes(bytes, firstBytes, source) {
  if (busy) {
    // A file chosen while another is being checked: checked next (the latest one only).
    pending = [bytes, firstBytes, source];
    return;
  }
  busy = true;
  $("status").textContent = "";
  $("verdict").className = "verdict";
  $("verdict").textContent = "";
  for (const p of PHASES) setPhase(p, 0, 0);
  const t0 = performance.now();
  try {
    await ready();
    let record;
    try {
      record = loadRecord(bytes, source);
    } catch (e) {
      last = { error: e.message };
      show(last);
      return;
    }
    const src = bundleSource();
    // One worker per core; "#workers=N" in the address overrides it (0: in the page's thread).
    const asked = /(?:^#|&)workers=(\d+)/.exec(location.hash);
    const workers = asked ? Number(asked[1]) : Math.max(1, navigator.hardwareConcurrency || 2);
    const runBallots = workers > 0 && src && typeof Worker !== "undefined" ? runBallotsInWorkers(src, workers) : runBallotsHere;
    $("workers").textContent = `${workers} ${t("workers")}`;
    let current = null;
    const onPhase = (name) => {
      if (current) finishPhase(current);
      current = name;
      if (name === "ballots") setPhase(name, 0, Array.isArray(record.board) ? record.board.length : 0);
      else setPhase(name, 0, 0);
      return new Promise((r) => setTimeout(r, 0));
    };
    const progress = (done, total) => setPhase("ballots", done, total);
    // The file's bytes: a record that is not its canonical JSON fails "format", as in the CLI.
    const data = typeof bytes === "string" ? new TextEncoder().encode(bytes) : new Uint8Array(bytes);
    const report = await verifyRecord(record, { runBallots, progress, onPhase, data });
    if (current && report.ok) finishPhase(current);
    if (firstBytes) {
      if (!isSecondRound(record)) {
        $("status").textContent = lang === "vi" ? "Hồ sơ không phải vòng hai: tệp vòng một không được dùng."
          : "The record is not a second round: the first-round file is not used.";
      } else {
        let first;
        try {
          first = loadRecord(firstBytes, "the first-round record");
        } catch (e) {
          last = { error: e.message };
          show(last);
          return;
        }
        report.checks.push(...verifyLink(record, first, firstBytes).checks);
        const r1 = await verifyRecord(first, { runBallots, progress, onPhase });
        const f1 = r1.firstFailure;
        report.add("first_round_record", "First-round record verifies", r1.ok, r1.ok ? `all ${r1.checks.length} checks passed`
          : f1 ? `first failing check: ${f1.title}: ${f1.detail}` : "no check run");
      }
    }
    last = { record, report, seconds: (performance.now() - t0) / 1000, positions: report.state.positions || new Map() };
    document.body.dataset.seconds = last.seconds.toFixed(3);
    show(last);
  } finally {
    busy = false;
    if (pending) {
      const next = pending;
      pending = null;
      verifyBytes(...next);
    }
  }
}

function show(state) {
  const verdict = $("verdict");
  const list = $("checks");
  list.textContent = "";
  $("checklist").textContent = "";
  $("results").textContent = "";
  $("results-text").textContent = "";
  if (state.error) {
    verdict.className = "verdict bad";
    verdict.textContent = `${t("unreadable")} ${state.error}`;
    document.body.dataset.verdict = "unreadable";
    return;
  }
  const { record, report } = state;
  const f = report.firstFailure;
  verdict.className = `verdict ${report.ok ? "ok" : "bad"}`;
  verdict.textContent = report.ok ? t("ok") : `${t("bad")} ${lang === "vi" && f ? `${CHECK_VI[f.key] || f.title} — ` : ""}${f ? f.title : ""}`;
  verdict.dataset.firstFailure = f ? f.key : "";
  document.body.dataset.verdict = report.ok ? "ok" : "bad";
  for (const c of report.checks) {
    const vi = lang === "vi" && CHECK_VI[c.key] ? `${CHECK_VI[c.key]} — ` : "";
    list.append(el("li", { class: c.ok ? "ok" : "bad", "data-key": c.key }, el("span", { class: "mark", text: c.ok ? "✓" : "✗" }),
      el("strong", { text: `${vi}${c.title}` }), `: ${c.detail}`));
  }
  $("checklist").textContent = checklist(report);
  $("elapsed").textContent = state.seconds ? `${t("elapsed")}: ${state.seconds.toFixed(1)} s` : "";
  try {
    renderResults(record, report.ok);
    $("results-text").textContent = resultsTable(record, { lang });
  } catch {
    /* a record too malformed for a table: the checks say why */
  }
}

function renderResults(record, verified) {
  const box = $("results");
  const m = record.manifest;
  const res = record.results;
  if (!res || !Array.isArray(res.units)) return;
  const levels = m.levels;
  const names = new Map(m.units.map((u) => [u.unit_id, u.name]));
  if (!verified) box.append(el("p", { class: "warn", text: t("notVerified") }));
  box.append(el("p", { text: `N = ${res.base} — ${res.base_text ? res.base_text[lang === "vi" ? "vi" : "en"] : ""}` }));
  if (res.quorum && res.quorum.text) box.append(el("p", { text: res.quorum.text[lang === "vi" ? "vi" : "en"] }));
  const head = el("tr", {}, el("th", { text: "#" }), el("th", { text: t("unit") }),
    ...levels.map((lv) => el("th", { text: lv.short || lv.code, title: lang === "vi" ? lv.name_vi : lv.name_en })),
    el("th", { text: t("abstain") }), el("th", { text: t("result") }), el("th", { text: t("rule") }));
  const body = el("tbody");
  res.units.forEach((r, i) => {
    const cells = levels.map((lv) => {
      const votes = (r.counts.votes || {})[lv.code] || 0;
      const share = parseFractionText(r.shares ? r.shares[lv.code] ?? null : null);
      const bar = el("span", { class: "bar" });
      bar.style.width = share ? `${Math.min(100, (Number(share.n) * 100) / Number(share.d)).toFixed(1)}%` : "0";
      return el("td", { class: "level" }, el("span", { class: "n", text: `${votes} (${percent(share)})` }), el("span", { class: "track" }, bar));
    });
    const levelName = r.level ? (levels.find((lv) => lv.code === r.level) || {})[lang === "vi" ? "name_vi" : "name_en"] || r.level : "—";
    body.append(el("tr", { class: r.outcome }, el("td", { text: String(i + 1) }), el("td", { text: names.get(r.unit_id) || r.unit_id }), ...cells,
      el("td", { text: String(r.counts.abstain) }), el("td", { text: `${levelName} · ${r.outcome}` }),
      el("td", { class: "rule", text: r.rule ? r.rule[lang === "vi" ? "vi" : "en"] : "" })));
  });
  box.append(el("table", { class: "results" }, el("thead", {}, head), body));
}

async function readFile(input) {
  const f = input.files && input.files[0];
  return f ? new Uint8Array(await f.arrayBuffer()) : null;
}

function recordUrlFromLocation() {
  const m = /\/verify\/([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)\/?$/.exec(location.pathname);
  return location.protocol.startsWith("http") && m ? `/api/v1/elections/${m[1]}/record` : null;
}

async function loadUrl(url) {
  $("status").textContent = "…";
  let resp;
  try {
    resp = await fetch(url, { credentials: "omit", cache: "no-store" });
  } catch (e) {
    last = { error: `${url}: ${e.message}` };
    show(last);
    return;
  }
  if (!resp.ok) {
    last = { error: resp.status === 404 ? `${t("notPublished")} (${url}: HTTP 404)` : `${url}: HTTP ${resp.status}` };
    show(last);
    return;
  }
  await verifyBytes(new Uint8Array(await resp.arrayBuffer()), await readFile($("first-file")), url);
}

async function checkReceipt() {
  const out = $("receipt-result");
  out.textContent = "";
  if (!last || !last.record) {
    out.append(el("p", { class: "warn", text: t("receiptFirst") }));
    return;
  }
  let input = $("receipt-code").value;
  const file = await readFile($("receipt-file"));
  if (file) input = new TextDecoder().decode(file);
  let res;
  try {
    res = checkReceiptIn(last.record, last.positions, parseReceiptInput(input), last.report.ok);
  } catch (e) {
    out.append(el("p", { class: "warn", text: e.message }));
    out.dataset.result = "error";
    return;
  }
  const ul = el("ul");
  for (const c of res.checks) {
    ul.append(el("li", { class: c.ok ? "ok" : "bad", "data-key": c.key }, el("span", { class: "mark", text: c.ok ? "✓" : "✗" }),
      `${lang === "vi" ? RECEIPT_VI[c.key] + " / " : ""}${c.key}: ${c.detail}`));
  }
  out.append(ul, el("p", { class: res.counted ? "verdict ok" : "verdict bad", text: res.counted ? t("counted") : t("notCounted") }));
  out.dataset.result = res.counted ? "counted" : "not-counted";
}

export function startPage() {
  const go = () => {
    if (!$("verifier-app")) return;
    for (const b of document.querySelectorAll("[data-lang]")) {
      b.addEventListener("click", () => {
        lang = b.dataset.lang;
        translate();
      });
    }
    const open = async () => {
      const bytes = await readFile($("record-file"));
      if (bytes) await verifyBytes(bytes, await readFile($("first-file")), $("record-file").files[0].name);
    };
    $("record-file").addEventListener("change", open);
    $("first-file").addEventListener("change", () => {
      if ($("record-file").files.length) open();
    });
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const f = e.dataTransfer.files[0];
      if (f) await verifyBytes(new Uint8Array(await f.arrayBuffer()), await readFile($("first-file")), f.name);
    });
    $("url-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const url = $("record-url").value.trim();
      if (url) loadUrl(url);
    });
    $("receipt-form").addEventListener("submit", (e) => {
      e.preventDefault();
      checkReceipt();
    });
    translate();
    const url = recordUrlFromLocation();
    if (url) {
      $("record-url").value = url;
      loadUrl(url);
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go);
  else go();
}

/** SHA-256 of bytes as hex (the page's fingerprint is computed over the page file's bytes). */
export function fingerprintOf(bytes) {
  return toHex(sha256Plain(bytes));
}
