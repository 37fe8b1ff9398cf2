// The trustee's page (/t/<slug>/status), docs/web.md "The trustee page": the key ceremony and
// the partial decryption in this browser, with BallotCrypto.trustee (docs/js-client.md) and the
// same JSON API as `ballot trustee …` (ballot/clients/trustee.py).
//
// What this page keeps, in this tab's memory only (never localStorage, sessionStorage,
// IndexedDB or a cookie):
// - the access code, typed once per page load, sent as "Authorization: Bearer <code>" with each
//   API request (credentials: "omit": no cookie goes with them, as for the ballot CLI);
// - the trustee's keys (polynomial, Box key, secret share) and the argon2id-derived key of the
//   key file, from the moment they are made or the key file is opened until the page is left
//   (a key file saved before the shares were checked gets its share rebuilt at decryption,
//   from the shares the server still holds, if this trustee accepted them: rebuildShare).
// The only requests carrying anything derived from the secrets are the public part (commitments,
// proofs, Box public key), the Box-encrypted shares, the complaints and the partial decryptions.
// The partial decryptions are of the aggregate this page recomputed from the whole board it
// downloaded and checked (BallotCrypto.trustee.checkBoardAsync), once the trustee has confirmed
// that the board's head (ballot count, last entry hash) matches the projector: never of an
// "aggregate" the server gives (issue 11, the decryption oracle).
"use strict";
(() => {
  const BC = window.BallotCrypto;
  const app = document.getElementById("trustee-app");
  const S = JSON.parse(document.getElementById("strings").textContent);
  const slug = app.dataset.slug;
  const me = Number(app.dataset.index);
  const API = app.dataset.api; // /api/v1/elections/<slug>
  const PROGRESS = app.dataset.progress;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
  const POLL_MS = 4000;

  let code = null; // the access code (memory only)
  let keys = null; // {manifestHash, secret, share}
  let derived = null; // the key file's argon2id key {salt, opslimit, memlimit, key}
  let lastFile = null; // {name, bytes} of the last key file made here, to download again
  let unpublished = null; // {public} made and saved here but not yet accepted by the server
  let progress = null; // GET /t/<slug>/progress
  let running = false;

  /** A message for the trustee, shown as it is. */
  class UserError extends Error {}

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // -- messages -------------------------------------------------------------------------------

  function say(id, text, kind = "") {
    const el = $(id);
    el.textContent = text;
    el.className = "flash" + (kind ? " " + kind : "");
    el.hidden = !text;
  }

  function busy(text, done = null, total = null) {
    $("busy").hidden = !text;
    $("busy-text").textContent = text || "";
    const bar = $("busy-progress");
    if (done === null) {
      bar.removeAttribute("value");
      bar.removeAttribute("max");
    } else {
      bar.max = total;
      bar.value = done;
    }
  }

  /** Let the browser paint (the busy text) before a long synchronous step (argon2id). */
  const paint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 30)));

  function explain(e) {
    if (e instanceof UserError) return e.message;
    if (e instanceof ApiError) return e.status === 0 ? S.network : fmt(S.refused, { reason: e.message });
    if (e instanceof BC.errors.KeyFileError && /wrong passphrase/.test(e.message)) return S.wrong_pass;
    return fmt(S.error, { reason: e && e.message ? e.message : String(e) });
  }

  // -- HTTP -----------------------------------------------------------------------------------

  async function api(method, tail, body) {
    const headers = { Accept: "application/json" };
    if (code !== null) headers.Authorization = "Bearer " + code;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(API + tail, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit", cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, S.network);
    }
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) throw new ApiError(resp.status, (data && data.error) || `HTTP ${resp.status}`);
    return data;
  }

  const ceremony = () => api("GET", "/ceremony");

  function download(name, bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  function saveKeyFile(doc, name, againButton = "download-again") {
    lastFile = { name, bytes: BC.trustee.keyfile.keyFileBytes(doc) };
    download(lastFile.name, lastFile.bytes);
    $(againButton).hidden = false;
  }

  const fileName = (withShare) => `${slug}-trustee-${me}${withShare ? "-with-share" : ""}.json`;

  // -- the state of every step ------------------------------------------------------------------

  function waiting(list) {
    return fmt(S.waiting_for, { list: list.join(", ") });
  }

  function render() {
    const p = progress;
    if (!p) return;
    const st = $("status");
    if (st.dataset.status !== p.status) {
      st.dataset.status = p.status;
      st.className = `status status-${p.status}`;
      st.textContent = S[`status:${p.status}`] || p.status;
    }
    const mine = p.trustees.find((t) => t.index === me) || {};
    for (const t of p.trustees) {
      const row = document.querySelector(`#progress-table tr[data-index="${t.index}"]`);
      if (!row) continue;
      for (const col of ["published", "shares_sent", "accepted", "approved"]) row.querySelector(`[data-col="${col}"]`).textContent = t[col] ? "✓" : "…";
      row.querySelector('[data-col="decrypted"]').textContent = t.decrypted ? "✓" : "";
    }
    const ceremonyOpen = p.status === "key_ceremony";
    const notPublished = p.trustees.filter((t) => !t.published).map((t) => t.index);
    const notSent = p.trustees.filter((t) => !t.shares_sent).map((t) => t.index);
    const haveCode = code !== null;

    $("step-code").classList.toggle("done", haveCode);
    $("code-form").hidden = haveCode;

    const canKeygen = haveCode && ceremonyOpen && !mine.published;
    $("keygen-form").hidden = !(ceremonyOpen && !mine.published);
    $("keygen").disabled = !canKeygen || running;
    $("keygen-state").textContent = mine.published ? S.done : ceremonyOpen ? "" : S.not_now;

    const canSend = haveCode && ceremonyOpen && mine.published && !mine.shares_sent && notPublished.length === 0;
    $("send-shares").disabled = !canSend || running;
    $("shares-state").textContent = mine.shares_sent ? S.done
      : !ceremonyOpen ? S.not_now : notPublished.length ? waiting(notPublished) : "";

    const canCheck = haveCode && ceremonyOpen && mine.shares_sent && !mine.accepted && notSent.length === 0;
    $("check-shares").disabled = !canCheck || running;
    $("check-state").textContent = mine.accepted ? S.done
      : !ceremonyOpen ? S.not_now : notSent.length ? waiting(notSent) : "";

    const canApprove = haveCode && ceremonyOpen && p.finished && !mine.approved;
    $("approve-check").disabled = !canApprove || running;
    $("approve-state").textContent = mine.approved ? S.done
      : !ceremonyOpen ? S.not_now : !p.finished ? S.wait_finish : "";

    const canDecrypt = haveCode && p.status === "closed" && !mine.decrypted;
    $("decrypt").disabled = !canDecrypt || running;
    $("decrypt-state").textContent = mine.decrypted ? S.done : p.status === "closed" ? "" : S.not_now;

    $("keyfile-state").textContent = keys && $("open-msg").hidden
      ? fmt(S.opened, { i: keys.secret.index, share: keys.share !== null ? S.yes : S.not_yet })
      : "";
  }

  async function refresh() {
    try {
      const resp = await fetch(PROGRESS, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
      if (resp.ok && (resp.headers.get("content-type") || "").startsWith("application/json")) {
        progress = await resp.json();
        $("updated").textContent = fmt(S.updated, { time: new Date().toLocaleTimeString(app.dataset.lang === "vi" ? "vi-VN" : "en-GB") });
        render();
      }
    } catch (e) {
      // the next poll tries again
    }
  }

  /** Run one step: one at a time, buttons disabled meanwhile, the state refreshed after. */
  async function step(msgId, fn) {
    if (running) return;
    running = true;
    render();
    say(msgId, "");
    try {
      await fn();
    } catch (e) {
      say(msgId, explain(e), "error");
    } finally {
      busy("");
      running = false;
      await refresh();
    }
  }

  function needKeys(msgId) {
    if (!keys) {
      say(msgId, S.keys_first, "error");
      $("keyfile").focus();
      return false;
    }
    return true;
  }

  // -- 1. access code -----------------------------------------------------------------------

  function takeCode(typed) {
    step("code-msg", async () => {
      busy(S.code_checking);
      code = typed;
      try {
        await api("GET", `/trustees/${me}/shares`); // needs the right code; changes nothing
      } catch (e) {
        code = null;
        if (e instanceof ApiError && e.status === 403) throw new UserError(S.code_bad);
        throw e;
      }
      $("code").value = "";
      say("code-msg", S.code_ok, "ok");
    });
  }

  $("code-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    takeCode($("code").value.replace(/\s+/g, ""));
  });

  // Just signed in: the sign-in answer hands over the code the trustee typed there, once (the
  // page is that POST's answer, never stored). Take it into memory, drop it from the page,
  // and put the status page's own address in the bar (a reload asks for the code again).
  const handed = app.dataset.code || null;
  app.removeAttribute("data-code");
  if (handed && app.dataset.statusUrl) history.replaceState(null, "", app.dataset.statusUrl);

  // -- 2. keygen ------------------------------------------------------------------------------

  $("keygen-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    step("keygen-msg", async () => {
      if (code === null) throw new UserError(S.code_first);
      if (unpublished) {
        // keys made and saved by an earlier try whose publication failed: publish those
        busy(S.publishing);
        await api("POST", `/trustees/${me}/public`, unpublished);
        unpublished = null;
        say("keygen-msg", fmt(S.keygen_done, { file: fileName(false) }), "ok");
        return;
      }
      const p1 = $("pass1").value;
      const p2 = $("pass2").value;
      if ([...p1].length < 8) throw new UserError(S.pass_short);
      if (p1 !== p2) throw new UserError(S.pass_differ);
      busy(S.generating);
      await paint();
      const state = await ceremony();
      const made = BC.trustee.keygen(state, me);
      const sealed = BC.trustee.keyfile.sealKeys(made.keys, p1);
      $("pass1").value = "";
      $("pass2").value = "";
      // the key file first: a published key without its file would be lost
      saveKeyFile(sealed.doc, fileName(false));
      keys = made.keys;
      derived = sealed.derived;
      unpublished = made.request;
      busy(S.publishing);
      await api("POST", `/trustees/${me}/public`, made.request);
      unpublished = null;
      say("keygen-msg", fmt(S.keygen_done, { file: fileName(false) }), "ok");
    });
  });

  // -- the key file ---------------------------------------------------------------------------

  $("open-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    step("open-msg", async () => {
      const file = $("keyfile").files[0];
      if (!file) throw new UserError(S.choose_file);
      const text = await file.text();
      busy(S.opening);
      await paint();
      const opened = BC.trustee.keyfile.openKeyFile(text, $("open-pass").value);
      if (opened.keys.secret.index !== me) throw new UserError(fmt(S.wrong_trustee, { i: opened.keys.secret.index }));
      const state = await ceremony();
      if (BC.bytes.toHex(opened.keys.manifestHash) !== state.manifest_hash) throw new UserError(S.wrong_election);
      keys = opened.keys;
      derived = opened.derived;
      $("open-pass").value = "";
      say("open-msg", fmt(S.opened, { i: keys.secret.index, share: keys.share !== null ? S.yes : S.not_yet }), "ok");
    });
  });

  // -- 3. send shares ---------------------------------------------------------------------------

  $("send-shares").addEventListener("click", () => {
    if (!needKeys("shares-msg")) return;
    step("shares-msg", async () => {
      busy(S.sending);
      const state = await ceremony();
      await api("POST", `/trustees/${me}/shares`, BC.trustee.sendShares(state, keys));
      say("shares-msg", S.sent, "ok");
    });
  });

  // -- 4. check shares ------------------------------------------------------------------------

  $("check-shares").addEventListener("click", () => {
    if (!needKeys("check-msg")) return;
    step("check-msg", async () => {
      busy(S.checking);
      await paint();
      const state = await ceremony();
      const inbox = (await api("GET", `/trustees/${me}/shares`)).shares;
      const out = BC.trustee.receiveShares(state, keys, inbox);
      if (out.keys) {
        // the key file with the secret share first, then tell the server
        saveKeyFile(BC.trustee.keyfile.sealWithKey(out.keys, derived), fileName(true));
        keys = out.keys;
      }
      await api("POST", `/trustees/${me}/accept`, out.request);
      if (out.request.complaints.length) {
        const list = out.request.complaints.map((c) => c.reason).join("; ");
        say("check-msg", fmt(S.complaints, { list }), "error");
      } else {
        say("check-msg", fmt(S.checked, { file: fileName(true) }), "ok");
      }
    });
  });

  for (const b of ["download-again", "download-rebuilt"]) $(b).addEventListener("click", () => lastFile && download(lastFile.name, lastFile.bytes));

  /**
   * The key file opened here was saved before the shares were checked (no share), but this
   * trustee accepted them during the ceremony (so "Check my shares" is over): recompute the
   * secret share from the shares addressed to me, each checked against its sender's commitments
   * as in step 4, and g^share against my public share in the context of `agg`. Nothing is
   * posted (no accept, no complaint). The key file with the share is sealed again under the
   * same derived key (fresh nonce) and downloaded, then the decryption goes on.
   */
  async function rebuildShare(agg) {
    busy(S.rebuilding);
    await paint();
    const state = await ceremony();
    const inbox = (await api("GET", `/trustees/${me}/shares`)).shares;
    const out = BC.trustee.rebuildShare(state, agg, keys, inbox);
    if (out.problem === "keys") throw new UserError(S.rebuild_keys);
    if (out.problem === "shares") throw new UserError(fmt(S.rebuild_shares, { list: out.complaints.map((c) => c.reason).join("; ") }));
    if (out.problem !== null) throw new UserError(S.rebuild_mismatch);
    saveKeyFile(BC.trustee.keyfile.sealWithKey(out.keys, derived), fileName(true), "download-rebuilt");
    keys = out.keys;
    say("open-msg", ""); // its "secret share: not yet" is over: #keyfile-state tells the keys now
    say("rebuild-msg", fmt(S.rebuilt, { file: fileName(true) }), "ok");
  }

  /** Show the checked board's head and wait for the trustee: true (it matches) or false. */
  function confirmHead(checked) {
    $("head-text").textContent = fmt(S.board_checked, { n: checked.ballots, tokens: checked.tokens });
    $("head-hash").textContent = checked.head.match(/.{4}/g).join(" ");
    $("head-check").hidden = false;
    $("confirm-head").focus();
    return new Promise((resolve) => {
      const done = (answer) => () => {
        $("confirm-head").onclick = null;
        $("reject-head").onclick = null;
        $("head-check").hidden = true;
        resolve(answer);
      };
      $("confirm-head").onclick = done(true);
      $("reject-head").onclick = done(false);
    });
  }

  // -- 5. approve the election fingerprint --------------------------------------------------------

  /** Show the fingerprint and wait for the trustee: true (it matches the projector) or false. */
  function confirmFingerprint(hex) {
    $("fingerprint").textContent = hex.match(/.{4}/g).join(" ");
    $("fingerprint-check").hidden = false;
    $("confirm-fingerprint").focus();
    return new Promise((resolve) => {
      const done = (answer) => () => {
        $("confirm-fingerprint").onclick = null;
        $("reject-fingerprint").onclick = null;
        $("fingerprint-check").hidden = true;
        resolve(answer);
      };
      $("confirm-fingerprint").onclick = done(true);
      $("reject-fingerprint").onclick = done(false);
    });
  }

  $("approve-check").addEventListener("click", () => {
    if (!needKeys("approve-msg")) return;
    step("approve-msg", async () => {
      busy(S.approve_checking);
      await paint();
      const info = await api("GET", "");
      let made;
      try {
        made = BC.trustee.approve(info, keys);
      } catch (e) {
        if (e instanceof BC.errors.CeremonyError || e instanceof BC.errors.DecryptionError) {
          throw new UserError(fmt(S.approve_refused, { reason: e.message }));
        }
        throw e;
      }
      busy("");
      if (!(await confirmFingerprint(made.baseHashHex))) throw new UserError(S.fingerprint_rejected);
      await api("POST", `/trustees/${me}/approval`, made.request);
      say("approve-msg", S.approved, "ok");
    });
  });

  // -- 6. decrypt -------------------------------------------------------------------------------

  $("decrypt").addEventListener("click", () => {
    if (!needKeys("decrypt-msg")) return;
    const mine = progress && progress.trustees.find((t) => t.index === me);
    if (keys.share === null && !(mine && mine.accepted)) {
      say("decrypt-msg", S.no_share, "error");
      return;
    }
    step("decrypt-msg", async () => {
      busy(S.fetching);
      // Never the server's "aggregate": the whole board, checked and summed here.
      const info = await api("GET", "");
      const counters = await api("GET", "/counters");
      const board = await api("GET", "/board/ballots");
      if (keys.share === null) await rebuildShare(info);
      const count = Array.isArray(board && board.board) ? board.board.length : 0;
      busy(fmt(S.checking_board, { done: 0, total: count }), 0, count);
      let checked;
      try {
        checked = await BC.trustee.checkBoardAsync(info, board, counters, {
          every: 1,
          onProgress: (done, total) => busy(fmt(S.checking_board, { done, total }), done, total),
        });
      } catch (e) {
        if (e instanceof BC.trustee.BoardError) throw new UserError(fmt(S.board_refused, { reason: e.message }));
        throw e;
      }
      busy("");
      if (!(await confirmHead(checked))) throw new UserError(S.head_rejected);
      const total = checked.aggregate.length;
      busy(fmt(S.decrypting, { done: 0, total }), 0, total);
      const body = await BC.trustee.decryptChecked(info, checked, keys, {
        every: 4,
        onProgress: (done) => busy(fmt(S.decrypting, { done, total }), done, total),
      });
      busy(S.submitting);
      const resp = await api("POST", `/trustees/${me}/decryption`, body);
      say("decrypt-msg", fmt(S.decrypted, { n: resp.decryptions }), "ok");
    });
  });

  // -- start ----------------------------------------------------------------------------------

  $("refresh").addEventListener("click", refresh);
  for (const b of ["keygen", "send-shares", "check-shares", "approve-check", "decrypt"]) $(b).disabled = true;
  busy(S.loading);
  BC.ready().then(
    () => {
      busy("");
      if (handed) takeCode(handed);
      refresh();
      setInterval(() => {
        if (!running && document.visibilityState !== "hidden") refresh();
      }, POLL_MS);
    },
    () => busy(S.no_wasm),
  );
  // Leaving the page forgets everything (the browser would anyway; this is explicit).
  window.addEventListener("pagehide", () => {
    code = null;
    keys = null;
    derived = null;
    lastFile = null;
    unpublished = null;
  });
})();
