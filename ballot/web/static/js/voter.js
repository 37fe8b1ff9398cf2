// The voter's phone page (/v/<slug>#<invitation code>), docs/web.md "The phone page".
//
// Everything secret happens here, with BallotCrypto (docs/js-client.md): the voter key, the
// blinded token, the encryption of every row with its proofs, the receipt check. The server
// sees the invitation code once (to blind-sign), then an anonymous token with an encrypted
// ballot. No cookie is sent with any request (credentials: "omit").
//
// Storage (docs/web.md explains the choice; docs/threat-model.md "What the phone keeps"):
// - localStorage "ballot:v1:<slug>:inv:<h>", h = a hash of the invitation code: {vault} while
//   the member votes — the voter key seed, the blinding state, then the token, and the tracking
//   codes of casts in flight, SEALED under a key derived from the slip's code
//   (BallotCrypto.vault), so that storage alone holds nothing castable — then only the signed
//   receipt {receipt}. Reopening the slip's link (even in a new tab) resumes, and after
//   casting shows the receipt instead of a new ballot; a reload without the code asks for it.
// - The ballot is signed only when the member presses Cast: a Benaloh audit opens an unsigned
//   body, which nobody can cast.
// - sessionStorage: which invitation this tab is on, and the marks in progress.
// - "Next voter on this device" removes every ballot:v1:<slug>: entry from both, so a shared
//   tablet keeps nothing of one voter when the next begins. The code is also removed from the
//   address bar (and so from the browser history) as soon as the page has read it.
// - The invitation code itself stays in this page's memory (slipCode), never in storage and
//   never sent: POST /tokens carries the per-round credential BallotCrypto.credential(slug,
//   code) (docs/protocol.md §7.1). With the code the page takes the member from a closed first
//   round to the second round (/v/<slug>-v2#<code>, docs/web.md "Ballot B"), in the fragment.
"use strict";
(() => {
  const BC = window.BallotCrypto;
  const app = document.getElementById("app");
  const S = JSON.parse(document.getElementById("strings").textContent);
  const slug = app.dataset.slug;
  const lang = app.dataset.lang;
  const API = app.dataset.api;
  const PREFIX = `ballot:v1:${slug}:`;
  const CURRENT = PREFIX + "current";
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
  const numberFormat = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB");

  let info = null; // GET /api/v1/elections/<slug>
  let levels = [];
  let abstainAllowed = true;
  let recKey = null; // storage key of the current invitation
  let rec = null; // {seed?, pending?, blinded?, token?, casting?: [tracking codes], receipt?}
  let vaultKey = null; // the key sealing rec in storage, from the slip's code (memory only)
  let choices = []; // per unit: level index, "A" (abstain) or null (unmarked)
  let sealed = null; // the encrypted ballot not yet cast (memory only)
  let slipCode = null; // the invitation code this page was given (memory only, never logged)
  // Ballot B of a second round: per group {units, max: K} ("at most K agree", level 0), and
  // each unit's group (-1: none). The phone refuses an extra "agree" before sealing; the
  // ballot's proofs make the server and every observer refuse it too.
  let limits = [];
  let groupOf = [];

  // -- screens and messages ------------------------------------------------------------------

  function show(name) {
    for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== `screen-${name}`;
    // "Next voter" is not offered while a ballot is encrypted or sent (nor while loading).
    for (const f of document.querySelectorAll(".voter-foot")) f.hidden = name === "loading" || name === "sealing";
    window.scrollTo(0, 0);
  }

  function busy(text) {
    $("loading-text").textContent = text;
    show("loading");
  }

  let retryAction = null;
  let retryTimer = null;
  // auto: seconds before "Try again" runs by itself (a lost answer, a network cut), counted
  // down on the screen; the button still works at once.
  function message(text, { retry = null, code = false, auto = 0 } = {}) {
    clearInterval(retryTimer);
    retryTimer = null;
    $("message-text").textContent = text;
    retryAction = retry;
    $("message-retry").hidden = !retry;
    $("message-code").hidden = !code;
    $("message-second-round").hidden = true;
    $("message-auto").hidden = !(retry && auto);
    if (retry && auto) {
      let left = auto;
      $("message-auto").textContent = fmt(S.retry_in, { s: left });
      retryTimer = setInterval(() => {
        left -= 1;
        $("message-auto").textContent = fmt(S.retry_in, { s: Math.max(left, 0) });
        if (left <= 0 && !$("screen-message").hidden) runRetry();
      }, 1000);
    }
    show("message");
  }
  function runRetry() {
    clearInterval(retryTimer);
    retryTimer = null;
    if (retryAction) retryAction();
  }
  $("message-retry").addEventListener("click", runRetry);
  $("message-code").addEventListener("click", () => {
    $("code-input").value = "";
    show("code");
  });

  function statusText() {
    return info && (info.status === "draft" || info.status === "key_ceremony") ? S.not_open : S.closed;
  }

  // -- storage -------------------------------------------------------------------------------

  function storageKey(code) {
    const h = BC.encoding.sha256Tag("ballot/web/v1/storage", BC.encoding.utf8(slug), BC.encoding.utf8(code));
    return PREFIX + "inv:" + BC.bytes.toHex(h).slice(0, 32);
  }
  function load(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }
  // What goes to storage: the receipt in clear once cast; before that everything sealed
  // under the code's key (nothing castable without the slip), or nothing without the key.
  function save() {
    if (!recKey || !rec) return;
    if (rec.receipt) {
      localStorage.setItem(recKey, JSON.stringify({ receipt: rec.receipt }));
    } else if (vaultKey) {
      const secret = {};
      for (const k of ["seed", "pending", "blinded", "token", "casting"]) if (rec[k] !== undefined) secret[k] = rec[k];
      localStorage.setItem(recKey, JSON.stringify({ vault: BC.vault.sealState(vaultKey, secret) }));
    }
  }
  // The stored entry, opened with the code's key: {receipt} or the sealed state ({} if none).
  function openEntry(entry) {
    if (!entry) return {};
    if (entry.receipt) return { receipt: entry.receipt };
    if (entry.vault && vaultKey) {
      try {
        return BC.vault.openState(vaultKey, entry.vault) || {};
      } catch (e) {
        return {};
      }
    }
    // an entry of an older page (kept in clear): take it over, sealed from now on
    const out = {};
    for (const k of ["seed", "pending", "blinded", "token"]) if (entry[k] !== undefined) out[k] = entry[k];
    return out;
  }
  function forget() {
    if (recKey) {
      localStorage.removeItem(recKey);
      localStorage.removeItem(recKey + ":choices");
      sessionStorage.removeItem(recKey + ":choices");
    }
    sessionStorage.removeItem(CURRENT);
    recKey = null;
    rec = null;
    slipCode = null;
    vaultKey = null;
  }
  // The marks in progress: in localStorage, so that a second tab opened from the same slip
  // shows them (and follows them: see the "storage" listener below); "next voter" and the
  // cast remove them.
  function saveChoices() {
    if (recKey) localStorage.setItem(recKey + ":choices", JSON.stringify(choices));
  }
  function loadChoices() {
    const n = info.manifest.units.length;
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(recKey + ":choices") || sessionStorage.getItem(recKey + ":choices") || "null");
    } catch (e) {
      saved = null;
    }
    const ok = (c) => c === null || c === "A" || (Number.isInteger(c) && c >= 0 && c < levels.length);
    return Array.isArray(saved) && saved.length === n && saved.every(ok) ? saved : new Array(n).fill(null);
  }
  function wipeAll() {
    for (const store of [localStorage, sessionStorage]) {
      for (const k of Object.keys(store)) if (k.startsWith(PREFIX)) store.removeItem(k);
    }
    recKey = null;
    rec = null;
    sealed = null;
    choices = [];
    slipCode = null;
    vaultKey = null;
    stopRoundsPolling();
    roundsPolls = 0;
    roundsDone = false;
    $("second-round").hidden = true;
    $("second-round-link").href = "#"; // it may carry the previous voter's code
    $("message-second-round").hidden = true;
    $("message-second-round-link").href = "#";
  }

  function codeFromUrl() {
    let code = null;
    if (location.hash.length > 1) {
      try {
        code = decodeURIComponent(location.hash.slice(1));
      } catch (e) {
        code = location.hash.slice(1);
      }
    }
    const query = new URLSearchParams(location.search);
    if (!code && query.get("code")) code = query.get("code");
    if (location.hash || query.has("code")) {
      query.delete("code");
      const rest = query.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
    }
    code = code ? code.replace(/\s+/g, "") : "";
    return code || null;
  }

  // -- the API -------------------------------------------------------------------------------

  async function api(method, path, body) {
    let resp;
    try {
      resp = await fetch(API + path, {
        method,
        headers: body ? { "Content-Type": "application/json" } : {},
        body: body ? JSON.stringify(body) : undefined,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      const err = new Error(S.network);
      err.network = true;
      throw err;
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      const err = new Error((data && data.error) || `HTTP ${resp.status}`);
      err.status = resp.status;
      throw err;
    }
    return data;
  }

  // -- start ---------------------------------------------------------------------------------

  async function start() {
    const code = codeFromUrl();
    busy(S.loading);
    try {
      await BC.ready();
    } catch (e) {
      return message(fmt(S.error, { reason: e.message }));
    }
    if (code) useCode(code); // kept before anything can fail: the address bar no longer has it
    try {
      info = await api("GET", "");
    } catch (e) {
      if (e.status === 409) return message(S.not_open, { retry: start }); // key ceremony not finished
      return message(e.network ? S.network : fmt(S.error, { reason: e.message }), { retry: start });
    }
    busy(S.checking);
    try {
      BC.loadElection(info);
    } catch (e) {
      return message(fmt(S.error, { reason: e.message }));
    }
    buildBallot();
    if (!rec) {
      recKey = sessionStorage.getItem(CURRENT);
      const entry = recKey ? load(recKey) : null;
      if (entry && entry.receipt) {
        rec = { receipt: entry.receipt };
      } else {
        // Nothing, or a sealed state that only the slip's code opens.
        recKey = null;
        if (info.status !== "open") storedReceipt(); // the receipt after the meeting
        if (!rec) {
          if (info.status !== "open") return closedRound();
          if (entry) return message(S.resume_code, { code: true });
          return show("code");
        }
      }
    }
    resume();
  }

  // After the meeting a new tab has no "current" invitation: the receipt this device kept
  // (localStorage) is shown again, checked against the board (receipt-check.js).
  function storedReceipt() {
    for (const k of Object.keys(localStorage)) {
      if (!k.startsWith(PREFIX + "inv:")) continue;
      const r = load(k);
      if (r && r.receipt) {
        recKey = k;
        rec = { receipt: r.receipt };
        return;
      }
    }
  }

  // Codes are read leniently (BallotCrypto.normalizeCode, docs/protocol.md §7.1): case, spaces
  // and dashes ignored, O read as 0, I and L as 1, so that a scanned and a typed code find the
  // same saved state and the same credential.
  function useCode(code) {
    code = BC.normalizeCode(code);
    slipCode = code;
    vaultKey = BC.vault.vaultKey(slug, code);
    recKey = storageKey(code);
    sessionStorage.setItem(CURRENT, recKey);
    rec = openEntry(load(recKey));
    save();
  }

  async function resume() {
    if (rec.receipt) return showReceipt();
    if (info.status !== "open") return closedRound();
    if (rec.casting && rec.casting.length && (await recoverFromBoard(rec.casting))) return;
    if (!rec.token) {
      try {
        await obtainToken();
      } catch (e) {
        return tokenFailed(e);
      }
    }
    choices = loadChoices();
    renderChoices();
    show("ballot");
  }

  // -- the second round (ballot B) -------------------------------------------------------------

  // The code this page knows: read from the fragment or typed here (memory only). Never sent
  // anywhere (the token request carries the per-round credential); here it only goes into a
  // fragment.
  function knownCode() {
    return slipCode || null;
  }
  // /v/<second slug>#<code>: the fragment never reaches the server; the second round's page
  // reads it and removes it from the address bar, as this page did.
  function secondRoundUrl(secondSlug, withCode = true) {
    const code = withCode ? knownCode() : null;
    const path = location.pathname.replace(/[^/]+$/, encodeURIComponent(secondSlug));
    return code ? `${path}#${encodeURIComponent(code)}` : path;
  }

  // The first round is not open (closed, tallied): a member scanning the first-round slip
  // again is taken to the second round when there is one. With the code in memory the page
  // goes there at once; without it, a button opens the second round's code form.
  function closedRound() {
    const second = info && info.round !== 2 && info.second_round;
    if (!second || info.status === "draft" || info.status === "key_ceremony") return message(statusText());
    if (knownCode()) {
      const url = secondRoundUrl(second);
      // This round will not open again: an entry without a receipt (perhaps still holding the
      // code) is of no use here any more. The second round's page keeps its own.
      if (rec && !rec.receipt) {
        localStorage.removeItem(recKey);
        localStorage.removeItem(recKey + ":choices");
        sessionStorage.removeItem(recKey + ":choices");
        sessionStorage.removeItem(CURRENT);
      }
      busy(app.dataset.toSecondRound || S.loading);
      location.replace(url);
      return;
    }
    message(statusText());
    $("message-second-round-link").href = secondRoundUrl(second, false);
    $("message-second-round").hidden = false;
  }

  async function obtainToken() {
    busy(S.issuing);
    if (!rec.seed) {
      rec.seed = BC.encoding.b64encode(BC.newVoterKey().seed);
      save();
    }
    if (!rec.pending) {
      const t = BC.startToken(info, BC.voterKeyFromSeed(rec.seed));
      rec.pending = t.pending;
      rec.blinded = t.request.blinded_msg;
      save(); // kept before sending: a retry sends the same blinded message
    }
    // The per-round credential, never the code (docs/protocol.md §7.1).
    const resp = await api("POST", "/tokens", { credential: BC.credential(slug, slipCode), blinded_msg: rec.blinded });
    rec.token = BC.finishToken(info, rec.pending, resp.blind_sig);
    delete rec.pending;
    delete rec.blinded;
    save();
  }

  function tokenFailed(e) {
    if (e.network) return message(S.network, { retry: resume, auto: 3 });
    if (e.status === 409 && /already/i.test(e.message)) {
      forget();
      return message(S.used, { code: true });
    }
    if (e.status === 403 || e.status === 404) {
      forget();
      return message(S.unknown, { code: true });
    }
    if (e.status === 409) return message(fmt(S.error, { reason: e.message }), { retry: resume });
    return message(fmt(S.error, { reason: e.message }), { retry: resume });
  }

  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("code-input").value.replace(/\s+/g, "");
    if (!code) return;
    useCode(code);
    resume();
  });

  // -- the ballot ----------------------------------------------------------------------------

  function levelName(level) {
    return lang === "vi" ? level.name_vi : level.name_en;
  }
  function levelByCode(code) {
    return levels.find((l) => l.code === code);
  }
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  let built = false;
  function buildBallot() {
    if (built) return;
    built = true;
    levels = info.manifest.levels;
    abstainAllowed = BC.loadElection(info).shape.abstainAllowed;
    limits = BC.loadElection(info).shape.limits;
    groupOf = new Array(info.manifest.units.length).fill(-1);
    limits.forEach((g, j) => g.units.forEach((i) => (groupOf[i] = j)));
    $("legend").textContent = levels.map((l) => `${l.short}: ${levelName(l)}`).join(" · ");
    const list = $("units");
    const cols = levels.length + (abstainAllowed ? 1 : 0);
    const UI = window.BallotUI;
    const starts = new Set(UI.sectionStarts(info.manifest));
    const showKind = UI.showsKind(info.manifest);
    info.manifest.units.forEach((u, i) => {
      const li = el("li", "unit");
      li.dataset.i = String(i);
      li.dataset.name = fold(u.name);
      if (starts.has(i)) li.append(el("h3", "section-head", UI.sectionTitle(info.manifest, i, S)));
      const g = groupOf[i];
      if (g >= 0 && limits[g].units[0] === i) li.append(limitHead(g));
      const head = el("div", "unit-head");
      head.append(el("span", "no", `${i + 1}.`), el("span", "name", u.name));
      li.append(head);
      const meta = [];
      const self = u.self_level && levelByCode(u.self_level);
      const proposed = u.proposed_level && levelByCode(u.proposed_level);
      if (showKind) meta.push(UI.kindName(u.kind, S) + (u.group ? ` — ${u.group}` : ""));
      if (self) meta.push(`${S.self}: ${self.short}`);
      if (proposed) meta.push(`${S.proposed}: ${proposed.short}`);
      if (meta.length) li.append(el("div", "unit-meta", meta.join(" · ")));
      const group = el("div", `choices cols-${cols}`);
      group.setAttribute("role", "radiogroup");
      group.setAttribute("aria-label", u.name);
      levels.forEach((l, j) => {
        const b = el("button", "", l.short);
        b.type = "button";
        b.dataset.c = String(j);
        b.title = levelName(l);
        b.setAttribute("role", "radio");
        b.setAttribute("aria-checked", "false");
        group.append(b);
      });
      if (abstainAllowed) {
        const b = el("button", "abstain", S.abstain);
        b.type = "button";
        b.dataset.c = "A";
        b.setAttribute("role", "radio");
        b.setAttribute("aria-checked", "false");
        group.append(b);
      }
      li.append(group);
      list.append(li);
    });
    const bulk = $("bulk-level");
    // No level is chosen for the voter: the list starts empty ("—"), and the proposed levels
    // have their own button.
    bulk.append(new Option("—", ""));
    $("bulk-proposed").hidden = !UI.hasProposals(info.manifest, levels);
    // With "at most K agree", "agree" is never applied to every unmarked row at once.
    levels.forEach((l, j) => {
      if (!(limits.length && j === 0)) bulk.append(new Option(`${l.short} — ${levelName(l)}`, String(j)));
    });
    if (limits.length) {
      const bar = $("limits");
      bar.hidden = false;
      limits.forEach((_, j) => bar.append(limitHead(j, true)));
    }
    if (abstainAllowed) bulk.append(new Option(S.abstain, "A"));
  }

  function groupName(j) {
    const bb = info.manifest.ballot_b;
    const group = bb && bb.ballots[j] && bb.ballots[j].group;
    return group || String(j + 1);
  }
  function limitHead(j, summary = false) {
    const head = el("div", summary ? "limit flash info" : "limit");
    head.dataset.g = String(j);
    const k = limits[j].max;
    head.append(el("span", "limit-text", fmt(S.limit, { group: groupName(j), k, agree: levelName(levels[0]) })), " ",
      el("strong", "limit-count", fmt(S.limit_count, { n: 0, k })));
    return head;
  }
  function agreeCount(j) {
    return limits[j].units.filter((i) => choices[i] === 0).length;
  }
  function overLimit() {
    return limits.map((g, j) => (agreeCount(j) > g.max ? j : -1)).filter((j) => j >= 0);
  }
  function renderLimits() {
    limits.forEach((g, j) => {
      const n = agreeCount(j);
      const full = n >= g.max;
      for (const head of document.querySelectorAll(`.limit[data-g="${j}"]`)) {
        head.querySelector(".limit-count").textContent = fmt(S.limit_count, { n, k: g.max });
        head.classList.toggle("full", full);
        head.classList.toggle("warning", n > g.max);
      }
      for (const i of g.units) {
        const b = $("units").children[i].querySelector('button[data-c="0"]');
        const blocked = full && choices[i] !== 0;
        b.disabled = blocked;
        b.setAttribute("aria-disabled", String(blocked));
        b.title = blocked ? fmt(S.limit_full, { k: g.max, agree: levelName(levels[0]) }) : levelName(levels[0]);
      }
    });
  }

  function renderRow(i) {
    const li = $("units").children[i];
    const c = choices[i];
    li.classList.toggle("marked", c !== null);
    for (const b of li.querySelectorAll("button")) {
      b.setAttribute("aria-checked", String(String(c) === b.dataset.c));
    }
  }
  function renderProgress() {
    const done = choices.filter((c) => c !== null).length;
    const total = choices.length;
    const p = $("progress");
    p.textContent = `${numberFormat.format(done)}/${numberFormat.format(total)}`;
    p.setAttribute("aria-label", fmt(S.progress, { done, total }));
    p.classList.toggle("complete", done === total);
  }
  function renderChoices() {
    choices.forEach((_, i) => renderRow(i));
    renderProgress();
    renderLimits();
  }

  $("units").addEventListener("click", (event) => {
    const b = event.target.closest("button[data-c]");
    if (!b) return;
    const i = Number(b.closest(".unit").dataset.i);
    const c = b.dataset.c === "A" ? "A" : Number(b.dataset.c);
    const g = groupOf[i];
    if (c === 0 && g >= 0 && choices[i] !== 0 && agreeCount(g) >= limits[g].max) return; // full
    choices[i] = choices[i] === c ? null : c;
    renderRow(i);
    renderProgress();
    renderLimits();
    saveChoices();
  });

  $("search").addEventListener("input", () => {
    const q = fold($("search").value.trim());
    let shown = 0;
    for (const li of $("units").children) {
      const hit = !q || li.dataset.name.includes(q);
      li.hidden = !hit;
      if (hit) shown++;
    }
    $("no-match").hidden = shown > 0;
  });

  $("bulk-apply").addEventListener("click", () => {
    const v = $("bulk-level").value;
    if (v === "") return $("bulk-level").focus();
    const c = v === "A" ? "A" : Number(v);
    if (limits.length && c === 0) return;
    choices = choices.map((x) => (x === null ? c : x));
    renderChoices();
    saveChoices();
  });

  // "Set every unmarked row to its proposed level" (the proposal column of the units file).
  $("bulk-proposed").addEventListener("click", () => {
    let next = window.BallotUI.proposedChoices(info.manifest, levels, choices);
    if (limits.length) next = next.map((c, i) => (c === 0 && choices[i] !== 0 ? null : c)); // never "agree" in bulk
    choices = next;
    renderChoices();
    saveChoices();
  });

  // Jump to the next unmarked row (visible under the search), after the one at the top.
  let cursorRow = -1;
  $("units").addEventListener("click", (event) => {
    const row = event.target.closest(".unit");
    if (row) cursorRow = Number(row.dataset.i);
  });
  $("next-unmarked").addEventListener("click", () => {
    const rows = [...$("units").children];
    // From the last row jumped to or marked while it is still on screen, else from the first
    // row whose top is in view below the sticky bar.
    const last = cursorRow >= 0 ? rows[cursorRow].getBoundingClientRect() : null;
    let from;
    if (last && last.bottom > 0 && last.top < window.innerHeight) {
      from = cursorRow;
    } else {
      const bar = document.querySelector(".ballot-bar").getBoundingClientRect().bottom;
      const top = rows.findIndex((li) => !li.hidden && li.getBoundingClientRect().top >= bar - 2);
      from = top < 0 ? -1 : top - 1;
    }
    const i = window.BallotUI.nextUnmarked(choices, from, (k) => !rows[k].hidden);
    if (i < 0) return;
    cursorRow = i;
    rows[i].scrollIntoView({ block: "start" });
    const first = rows[i].querySelector("button[data-c]");
    if (first) first.focus({ preventScroll: true });
  });

  // Another tab on the same slip changed the marks: follow them.
  window.addEventListener("storage", (event) => {
    if (!recKey || event.key !== recKey + ":choices" || !info || !choices.length) return;
    choices = loadChoices();
    renderChoices();
  });

  // -- review --------------------------------------------------------------------------------

  // Per-level counts, and a note when more "excellent" marks than the quota can keep.
  function renderReviewCounts() {
    const UI = window.BallotUI;
    const { counts, abstain, unmarked } = UI.levelCounts(levels, choices);
    const box = $("review-counts");
    box.replaceChildren();
    levels.forEach((l, j) => {
      const li = el("li", "", `${l.short}: `);
      li.title = levelName(l);
      li.append(el("b", "", numberFormat.format(counts[j])));
      box.append(li);
    });
    if (abstainAllowed) {
      const li = el("li", "", `${S.abstain}: `);
      li.append(el("b", "", numberFormat.format(abstain)));
      box.append(li);
    }
    if (unmarked) {
      const li = el("li", "unmarked", `${S.unmarked_short}: `);
      li.append(el("b", "", numberFormat.format(unmarked)));
      box.append(li);
    }
    const notes = UI.quotaNotes(info.manifest, levels, choices);
    const note = $("review-quota");
    note.hidden = !notes.length;
    note.replaceChildren();
    const top = info.manifest.rules && info.manifest.rules.quota && levelByCode(info.manifest.rules.quota.top);
    const against = info.manifest.rules && info.manifest.rules.quota && levelByCode(info.manifest.rules.quota.against);
    for (const q of notes) {
      note.append(el("p", "", fmt(S.quota_note, {
        group: q.group || S.group_none, x: q.x, top: top ? top.short : "", xmax: q.xmax, n: q.n,
        against: against ? against.short : "", ratio: q.ratio,
      })));
    }
  }

  // The browser's Back button on the review screen returns to the ballot.
  let reviewInHistory = false;
  let rowAfterReview = -1; // a row tapped on the review: shown once back on the ballot
  function showBallotAt() {
    show("ballot");
    const i = rowAfterReview;
    rowAfterReview = -1;
    if (i < 0) return;
    const row = $("units").children[i];
    row.scrollIntoView({ block: "start" });
    cursorRow = i;
    const first = row.querySelector("button[data-c]");
    if (first) first.focus({ preventScroll: true });
  }
  window.addEventListener("popstate", () => {
    if (reviewInHistory && !$("screen-review").hidden) {
      reviewInHistory = false;
      showBallotAt();
    } else {
      reviewInHistory = false;
    }
  });
  function leaveReview(row = -1) {
    rowAfterReview = row;
    if (reviewInHistory) history.back(); // the popstate above shows the ballot
    else showBallotAt();
  }

  function choiceText(c) {
    if (c === null) return S.unmarked;
    if (c === "A") return S.abstain;
    return `${levels[c].short} — ${levelName(levels[c])}`;
  }

  $("to-review").addEventListener("click", () => {
    const list = $("review-list");
    list.replaceChildren();
    info.manifest.units.forEach((u, i) => {
      const c = choices[i];
      const li = el("li", c === null ? "unmarked" : c === "A" ? "abstained" : "");
      li.append(el("span", "name", `${i + 1}. ${u.name}`), el("span", "choice", choiceText(c)));
      li.dataset.i = String(i);
      li.tabIndex = 0; // a tap (or Enter) on a row goes back to that row of the ballot
      list.append(li);
    });
    const left = choices.filter((c) => c === null).length;
    $("review-summary").textContent = left ? fmt(S.unmarked_left, { n: left }) : S.all_marked;
    $("review-summary").className = left ? "flash warning" : "flash ok";
    $("seal").disabled = left > 0 && !abstainAllowed;
    const over = overLimit();
    if (over.length) {
      const g = over[0];
      $("review-summary").textContent = fmt(S.limit_over, { group: groupName(g), k: limits[g].max, agree: levelName(levels[0]) });
      $("review-summary").className = "flash error";
      $("seal").disabled = true;
    }
    renderReviewCounts();
    show("review");
    if (!reviewInHistory) {
      history.pushState({ screen: "review" }, "", location.pathname + location.search);
      reviewInHistory = true;
    }
  });
  $("back-to-ballot").addEventListener("click", () => leaveReview());
  $("review-list").addEventListener("click", (event) => {
    const li = event.target.closest("li[data-i]");
    if (li) leaveReview(Number(li.dataset.i));
  });
  $("review-list").addEventListener("keydown", (event) => {
    const li = event.target.closest("li[data-i]");
    if (li && event.key === "Enter") leaveReview(Number(li.dataset.i));
  });
  $("sealed-back").addEventListener("click", () => {
    sealed = null;
    show("ballot");
  });

  // -- sealing (in a Worker when possible, with progress) -------------------------------------

  function cryptoChoices() {
    return choices.map((c) => (c === null || c === "A" ? null : c));
  }

  function encryptInWorker(values) {
    return new Promise((resolve, reject) => {
      let worker;
      try {
        worker = new Worker(app.dataset.worker || "/static/js/seal-worker.js");
      } catch (e) {
        reject(e);
        return;
      }
      const bar = $("seal-progress");
      bar.value = 0;
      bar.max = 1;
      worker.onmessage = (ev) => {
        const m = ev.data;
        if (m.progress !== undefined) {
          bar.value = Math.min(1, m.progress);
        } else if (m.error !== undefined) {
          worker.terminate();
          reject(new Error(m.error));
        } else {
          worker.terminate();
          resolve(m.result);
        }
      };
      worker.onerror = (ev) => {
        ev.preventDefault();
        worker.terminate();
        reject(new Error("worker"));
      };
      worker.postMessage({ info, token: rec.token, choices: values }); // no key: nothing is signed there
    });
  }

  async function seal() {
    show("sealing");
    const values = cryptoChoices();
    let result = null;
    try {
      result = await encryptInWorker(values);
    } catch (e) {
      result = null; // no Worker here: encrypt on this thread
    }
    if (!result) {
      $("seal-progress").removeAttribute("value");
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30)));
      try {
        const out = BC.sealBallot(info, rec.token, values);
        result = { body: out.body, trackingCode: out.trackingCode, ballotHash: out.ballotHash, audit: out.audit };
      } catch (e) {
        return message(fmt(S.error, { reason: e.message }), { retry: () => show("review") });
      }
    }
    sealed = result; // unsigned: signed only when the member presses Cast
    $("sealed-code").textContent = sealed.trackingCode;
    $("audit").disabled = false;
    show("sealed");
  }
  $("seal").addEventListener("click", seal);
  $("reseal").addEventListener("click", seal);

  // -- audit (Benaloh challenge) ---------------------------------------------------------------

  $("audit").addEventListener("click", () => {
    // A body that was signed (Cast was pressed) is never opened: it may be on the board.
    if (!sealed || sealed.ballot) return;
    const doc = {
      version: "ballot/v1/audit",
      election: info.base_hash,
      slug,
      tracking_code: sealed.trackingCode,
      ballot: sealed.body, // unsigned (docs/protocol.md §8.4): not castable
      audit: sealed.audit,
    };
    sealed = null; // opened: this encryption can never be cast
    const text = JSON.stringify(doc, null, 1);
    $("audit-json").value = text;
    localStorage.setItem(PREFIX + "audit", text);
    $("audit-status").textContent = S.audit_done;
    show("audit");
  });
  $("audit-copy").addEventListener("click", () => {
    const area = $("audit-json");
    area.focus();
    area.select();
    try {
      document.execCommand("copy"); // navigator.clipboard needs a secure context
      $("audit-status").textContent = S.copied;
    } catch (e) {
      /* the text is selected: the voter can copy it by hand */
    }
  });
  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = el("a");
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  $("audit-download").addEventListener("click", () => {
    const text = $("audit-json").value;
    let code = "audit";
    try {
      code = JSON.parse(text).tracking_code;
    } catch (e) {
      /* keep the default name */
    }
    download(`${slug}-audit-${code}.json`, text);
  });

  // -- cast and receipt ------------------------------------------------------------------------

  async function cast() {
    if (!sealed) return;
    if (!sealed.ballot) {
      // Signed now, and only now; its tracking code is kept (sealed) before it is sent, so
      // that a lost answer can be recovered from the board, even after a reload.
      try {
        sealed.ballot = BC.signBallot(sealed.body, rec.seed);
      } catch (e) {
        return message(fmt(S.error, { reason: e.message }));
      }
      $("audit").disabled = true;
      rec.casting = [...(rec.casting || []).filter((c) => c !== sealed.trackingCode), sealed.trackingCode];
      save();
    }
    busy(S.sending);
    let resp;
    try {
      resp = await api("POST", "/ballots", { ballot: sealed.ballot });
    } catch (e) {
      if (e.network) return message(S.network, { retry: cast, auto: 3 });
      if (e.status === 409) {
        if (await recoverFromBoard(rec.casting || [sealed.trackingCode])) return;
        return message(fmt(S.cast_failed, { reason: e.message }));
      }
      return message(fmt(S.cast_failed, { reason: e.message }), { retry: () => show("sealed") });
    }
    try {
      BC.checkReceipt(info, resp.receipt, sealed.ballot);
    } catch (e) {
      return message(fmt(S.receipt_bad, { reason: e.message }));
    }
    finishCast(resp.receipt);
  }
  $("cast").addEventListener("click", cast);

  // A cast whose answer was lost: the token is spent; the board says whether it was one of
  // the ballots this phone signed and sent (their tracking codes are kept, sealed). True when
  // the receipt was recovered.
  async function recoverFromBoard(codes) {
    try {
      const board = (await api("GET", "/board")).board;
      const hit = board.find((e) => codes.includes(e.tracking_code));
      if (hit) {
        finishCast({
          version: "ballot/v1/receipt",
          election: info.base_hash,
          position: hit.position,
          tracking_code: hit.tracking_code,
          entry_hash: hit.entry_hash,
          accepted_at: null,
          signature: null,
        });
        return true;
      }
    } catch (e) {
      /* fall through */
    }
    return false;
  }

  function finishCast(receipt) {
    rec = { receipt }; // the seed, the token and the casts in flight are gone for good
    save();
    // An audit kept for the verifier page holds choices in clear, often the ones just cast:
    // not kept past the cast (the member copied or downloaded it to check it elsewhere).
    localStorage.removeItem(PREFIX + "audit");
    sessionStorage.removeItem(recKey + ":choices");
    localStorage.removeItem(recKey + ":choices");
    choices = new Array(choices.length).fill(null);
    sealed = null;
    showReceipt();
  }

  function qrSvg(text) {
    const NS = "http://www.w3.org/2000/svg";
    const qr = window.qrcode(0, "L");
    qr.addData(text);
    qr.make();
    const n = qr.getModuleCount();
    const quiet = 4;
    const size = n + 2 * quiet;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.setAttribute("role", "img");
    const bg = document.createElementNS(NS, "rect");
    bg.setAttribute("width", String(size));
    bg.setAttribute("height", String(size));
    bg.setAttribute("fill", "#fff");
    svg.append(bg);
    let d = "";
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) if (qr.isDark(y, x)) d += `M${x + quiet} ${y + quiet}h1v1h-1z`;
    }
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "#000");
    svg.append(path);
    return svg;
  }

  function showReceipt() {
    const r = rec.receipt;
    $("receipt-code").textContent = r.tracking_code;
    $("receipt-position").textContent = numberFormat.format(r.position);
    // A receipt recovered from the board has no server time: the time this phone found it.
    if (!r.accepted_at && !r.found_at) {
      r.found_at = new Date().toISOString();
      save();
    }
    const when = r.accepted_at || r.found_at;
    $("receipt-time").textContent = new Date(when).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB")
      + (r.accepted_at ? "" : ` ${S.found_on_board}`);
    $("receipt-election").textContent = r.election;
    $("receipt-board").href = `${app.dataset.boardUrl}?code=${encodeURIComponent(r.tracking_code)}`;
    const box = $("receipt-qr");
    box.replaceChildren();
    try {
      box.append(qrSvg(JSON.stringify(r)));
    } catch (e) {
      box.textContent = "";
    }
    show("receipt");
    if (window.BallotReceiptCheck) window.BallotReceiptCheck.render({ api, status: info.status, receipt: r, numberFormat });
    watchSecondRound();
    watchStatus();
  }

  // The receipt's two states (docs/protocol.md, "Received, then checked"): "received" at once
  // (on the board, token and signature checked), then "checked" when the server has checked
  // the proofs: valid (counted), or invalid (not counted; honest phones never produce one).
  // Asked every 2 s, then less often, while the receipt is shown; the answer must name this
  // receipt's entry.
  let statusTimer = null;
  let statusPolls = 0;
  function showStatus(status, reason) {
    const box = $("receipt-status");
    box.dataset.status = status;
    box.className = status === "valid" ? "flash ok" : status === "invalid" ? "flash error" : "flash info";
    box.textContent = status === "valid" ? S.status_valid
      : status === "invalid" ? fmt(S.status_invalid, { reason: reason || "?" }) : S.status_received;
  }
  async function watchStatus() {
    clearTimeout(statusTimer);
    const r = rec && rec.receipt;
    if (!r) return;
    if (rec.status && rec.status !== "received") return showStatus(rec.status, rec.reason);
    showStatus("received");
    if ($("screen-receipt").hidden || statusPolls >= 400) return;
    statusPolls += 1;
    let st = null;
    try {
      st = await api("GET", `/ballots/${r.position}/status`);
    } catch (e) {
      st = null;
    }
    if (!rec || rec.receipt !== r) return; // another voter meanwhile
    if (st && st.tracking_code === r.tracking_code && st.entry_hash === r.entry_hash &&
        (st.status === "valid" || st.status === "invalid")) {
      rec.status = st.status;
      if (st.reason) rec.reason = st.reason;
      save();
      return showStatus(st.status, st.reason);
    }
    statusTimer = setTimeout(watchStatus, statusPolls < 30 ? 2000 : 10000);
  }
  $("receipt-download").addEventListener("click", () => {
    if (rec && rec.receipt) {
      download(`${slug}-receipt-${rec.receipt.tracking_code}.json`, JSON.stringify(rec.receipt, null, 1));
    }
  });

  // A member who voted in the first round and keeps this page open sees the second round as
  // soon as the secretary creates it: asked every 20 seconds while the receipt is shown and
  // the page is visible, at most ROUNDS_MAX times (about 2 hours of watching); a hidden page
  // asks nothing and asks again at once when it is shown.
  const ROUNDS_EVERY = 20000;
  const ROUNDS_MAX = 360;
  let roundsTimer = null;
  let roundsPolls = 0;
  let roundsDone = false; // the second round is open, or this is the second round
  let roundsRun = 0; // the latest watch; an older one still waiting for its answer stops
  function stopRoundsPolling() {
    clearTimeout(roundsTimer);
    roundsTimer = null;
    roundsRun += 1;
  }
  function showSecondRoundLink(secondSlug) {
    $("second-round-link").href = secondRoundUrl(secondSlug);
    $("second-round").hidden = false;
  }
  async function watchSecondRound() {
    stopRoundsPolling();
    if (!info || info.round === 2) return; // the second round has no further round
    if (info.second_round) showSecondRoundLink(info.second_round);
    if (roundsDone || roundsPolls >= ROUNDS_MAX || document.hidden || $("screen-receipt").hidden) return;
    const run = roundsRun;
    roundsPolls += 1;
    let rounds = null;
    try {
      rounds = await api("GET", "/rounds");
    } catch (e) {
      rounds = null;
    }
    if (run !== roundsRun || $("screen-receipt").hidden) return; // stopped meanwhile
    if (rounds && rounds.second_round) {
      showSecondRoundLink(rounds.second_round);
      if (rounds.second_round_status === "open") roundsDone = true;
    }
    if (rounds && rounds.round === 2) roundsDone = true;
    if (roundsDone || roundsPolls >= ROUNDS_MAX || document.hidden) return;
    roundsTimer = setTimeout(watchSecondRound, ROUNDS_EVERY);
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) stopRoundsPolling();
    else if (!$("screen-receipt").hidden) watchSecondRound();
  });

  // -- next voter (shared device) --------------------------------------------------------------

  for (const b of document.querySelectorAll(".next-voter")) {
    b.addEventListener("click", () => {
      if (!window.confirm(S.confirm_next)) return;
      wipeAll();
      history.replaceState(null, "", location.pathname);
      $("code-input").value = "";
      $("search").value = "";
      for (const li of $("units").children) li.hidden = false;
      if (info && info.status === "open") show("code");
      else closedRound(); // "closed", with the button to a second round if there is one
    });
  }

  window.addEventListener("hashchange", () => {
    // a new slip scanned into the same tab
    const code = codeFromUrl();
    if (code && info) {
      useCode(code);
      resume();
    }
  });

  start();
})();
