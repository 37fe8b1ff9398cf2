// The audit verifier page (/v/<slug>/audit): checks an opened encryption (Benaloh challenge)
// with the same BallotCrypto code as the phone, in this browser, and lists the choices it holds.
"use strict";
(() => {
  const BC = window.BallotCrypto;
  const app = document.getElementById("audit-app");
  const S = JSON.parse(document.getElementById("strings").textContent);
  const slug = app.dataset.slug;
  const lang = app.dataset.lang;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => String(values[k]));
  const stored = localStorage.getItem(`ballot:v1:${slug}:audit`);
  if (stored) $("audit-input").value = stored;

  function result(text, ok) {
    const p = $("audit-result");
    p.textContent = text;
    p.className = ok ? "flash ok" : "flash error";
  }

  $("audit-check").addEventListener("click", async () => {
    $("audit-choices").replaceChildren();
    const text = $("audit-input").value.trim();
    if (!text) return result(S.audit_paste, false);
    try {
      await BC.ready();
      const doc = JSON.parse(text);
      const resp = await fetch(app.dataset.api, { credentials: "omit", cache: "no-store" });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const info = await resp.json();
      const election = BC.loadElection(info);
      if (doc.election !== election.baseHashHex) throw new Error("the audit is for another election");
      // An audited ballot is an unsigned body (docs/protocol.md §8.4); older files carried the
      // signature, and still check.
      const signed = doc.ballot && typeof doc.ballot === "object" && "signature" in doc.ballot;
      const checked = signed ? BC.verifyBallot(info, doc.ballot) : BC.verifyBody(info, doc.ballot);
      if (doc.tracking_code && doc.tracking_code !== checked.trackingCode) throw new Error("the tracking code does not match the ballot");
      BC.checkAudit(info, doc.ballot, doc.audit);
      const levels = info.manifest.levels;
      info.manifest.units.forEach((u, i) => {
        const c = doc.audit.choices[i];
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.textContent = `${i + 1}. ${u.name}`;
        const choice = document.createElement("span");
        choice.className = "choice";
        choice.textContent = c === null ? S.abstain : `${levels[c].short} — ${lang === "vi" ? levels[c].name_vi : levels[c].name_en}`;
        li.append(name, choice);
        $("audit-choices").append(li);
      });
      result(`${S.audit_ok} (${checked.trackingCode})`, true);
    } catch (e) {
      result(fmt(S.audit_bad, { reason: e.message }), false);
    }
  });
})();
