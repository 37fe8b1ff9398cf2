// The voter's phone page (/v/<slug>#<invitation code>), docs/web.md "The phone page".
//
// Everything secret happens here, with BallotCrypto (docs/js-client.md): the voter key, the
// blinded token, the encryption of every row with its proofs, the receipt check. The server
// sees the invitation code once (to blind-sign), then an anonymous token with an encrypted
// ballot. No cookie is sent with any request (credentials: "omit").
//
// Storage (docs/web.md explains the choice):
// - localStorage "ballot:v1:<slug>:inv:<h>", h = a hash of the invitation code: the voter key
//   seed and the blinding state until the token is received, then the token until the ballot is
//   cast, then only the signed receipt. Reopening the slip's link (even in a new tab) resumes,
//   and after casting shows the receipt instead of a new ballot.
// - sessionStorage: which invitation this tab is on, and the marks in progress.
// - "Next voter on this device" removes every ballot:v1:<slug>: entry from both, so a shared
//   tablet keeps nothing of one voter when the next begins. The code is also removed from the
//   address bar (and so from the browser history) as soon as the page has read it.
// - The invitation code itself stays in this page's memory (slipCode), never in storage once
//   a token is received: with it the page takes the member from a closed first round to the
//   second round (/v/<slug>-v2#<code>, docs/web.md "Ballot B"), in the fragment only.
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
  let rec = null; // {code?, seed?, pending?, blinded?, token?, receipt?}
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
    window.scrollTo(0, 0);
  }

  function busy(text) {
    $("loading-text").textContent = text;
    show("loading");
  }

  let retryAction = null;
  function message(text, { retry = null, code = false } = {}) {
    $("message-text").textContent = text;
    retryAction = retry;
    $("message-retry").hidden = !retry;
    $("message-code").hidden = !code;
    $("message-second-round").hidden = true;
    show("message");
  }
  $("message-retry").addEventListener("click", () => retryAction && retryAction());
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
  function save() {
    if (recKey && rec) localStorage.setItem(recKey, JSON.stringify(rec));
  }
  function forget() {
    if (recKey) {
      localStorage.removeItem(recKey);
      sessionStorage.removeItem(recKey + ":choices");
    }
    sessionStorage.removeItem(CURRENT);
    recKey = null;
    rec = null;
    slipCode = null;
  }
  function saveChoices() {
    if (recKey) sessionStorage.setItem(recKey + ":choices", JSON.stringify(choices));
  }
  function loadChoices() {
    const n = info.manifest.units.length;
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(recKey + ":choices") || "null");
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
      rec = recKey ? load(recKey) : null;
      if (!rec) {
        recKey = null;
        if (info.status !== "open") return closedRound();
        return show("code");
      }
    }
    resume();
  }

  // The server reads codes leniently (ballot.store.repo.normalize_invitation_code): case,
  // spaces and dashes ignored, O read as 0, I and L as 1. The same here, so that a scanned and
  // a typed code find the same saved state.
  function normalizeCode(code) {
    const map = { O: "0", I: "1", L: "1" };
    return code.toUpperCase().replace(/[\s-]+/g, "").replace(/[OIL]/g, (c) => map[c]);
  }

  function useCode(code) {
    code = normalizeCode(code);
    slipCode = code;
    recKey = storageKey(code);
    sessionStorage.setItem(CURRENT, recKey);
    rec = load(recKey) || {};
    if (!rec.receipt && !rec.token) rec.code = code;
    save();
  }

  async function resume() {
    if (rec.receipt) return showReceipt();
    if (info.status !== "open") return closedRound();
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

  // The code this page still knows: read from the fragment or typed here (memory), or still in
  // the stored invitation entry (kept there only until the token is received). Never sent
  // anywhere but in the POST body of /tokens; here it only goes into a fragment.
  function knownCode() {
    return slipCode || (rec && rec.code) || null;
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
    const resp = await api("POST", "/tokens", { invitation: rec.code, blinded_msg: rec.blinded });
    rec.token = BC.finishToken(info, rec.pending, resp.blind_sig);
    delete rec.pending;
    delete rec.blinded;
    delete rec.code;
    save();
  }

  function tokenFailed(e) {
    if (e.network) return message(S.network, { retry: resume });
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
    info.manifest.units.forEach((u, i) => {
      const li = el("li", "unit");
      li.dataset.i = String(i);
      li.dataset.name = fold(u.name);
      const g = groupOf[i];
      if (g >= 0 && limits[g].units[0] === i) li.append(limitHead(g));
      const head = el("div", "unit-head");
      head.append(el("span", "no", `${i + 1}.`), el("span", "name", u.name));
      li.append(head);
      const meta = [];
      const self = u.self_level && levelByCode(u.self_level);
      const proposed = u.proposed_level && levelByCode(u.proposed_level);
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
    const c = v === "A" ? "A" : Number(v);
    if (limits.length && c === 0) return;
    choices = choices.map((x) => (x === null ? c : x));
    renderChoices();
    saveChoices();
  });

  // -- review --------------------------------------------------------------------------------

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
    show("review");
  });
  $("back-to-ballot").addEventListener("click", () => show("ballot"));
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
      worker.postMessage({ info, token: rec.token, seed: rec.seed, choices: values });
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
        const out = BC.encryptBallot(info, rec.token, rec.seed, values);
        result = { ballot: out.ballot, trackingCode: out.trackingCode, ballotHash: out.ballotHash, audit: out.audit };
      } catch (e) {
        return message(fmt(S.error, { reason: e.message }), { retry: () => show("review") });
      }
    }
    sealed = result;
    $("sealed-code").textContent = sealed.trackingCode;
    show("sealed");
  }
  $("seal").addEventListener("click", seal);
  $("reseal").addEventListener("click", seal);

  // -- audit (Benaloh challenge) ---------------------------------------------------------------

  $("audit").addEventListener("click", () => {
    if (!sealed) return;
    const doc = {
      version: "ballot/v1/audit",
      election: info.base_hash,
      slug,
      tracking_code: sealed.trackingCode,
      ballot: sealed.ballot,
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
    busy(S.sending);
    let resp;
    try {
      resp = await api("POST", "/ballots", { ballot: sealed.ballot });
    } catch (e) {
      if (e.network) return message(S.network, { retry: cast });
      if (e.status === 409) return recoverFromBoard(e);
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

  // A cast whose answer was lost: the token is spent; the board says whether it was this ballot.
  async function recoverFromBoard(err) {
    try {
      const board = (await api("GET", "/board")).board;
      const hit = board.find((e) => e.tracking_code === sealed.trackingCode);
      if (hit) {
        return finishCast({
          version: "ballot/v1/receipt",
          election: info.base_hash,
          position: hit.position,
          tracking_code: hit.tracking_code,
          entry_hash: hit.entry_hash,
          accepted_at: null,
          signature: null,
        });
      }
    } catch (e) {
      /* fall through */
    }
    return message(fmt(S.cast_failed, { reason: err.message }));
  }

  function finishCast(receipt) {
    rec.receipt = receipt;
    delete rec.seed;
    delete rec.token;
    save();
    sessionStorage.removeItem(recKey + ":choices");
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
    $("receipt-time").textContent = r.accepted_at
      ? new Date(r.accepted_at).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB")
      : "–";
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
