// Projector page: counts only, polled from /api/v1/elections/<slug>/counters every 3 s.
"use strict";
(() => {
  const root = document.getElementById("projector");
  const url = root.dataset.counters;
  const lang = document.documentElement.lang || "vi";
  const fmt = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB");
  const status = document.getElementById("c-status");
  const set = (id, n) => { document.getElementById(id).textContent = fmt.format(n); };
  // At the close: the attendance, the paper figures and the board's final head, as fixed in
  // the audit log before any decryption (the committee compares them with the trustees').
  const closeBox = document.getElementById("p-close");
  let closeShown = !closeBox.hidden;
  async function showClose() {
    if (closeShown) return;
    const resp = await fetch(closeBox.dataset.url, { cache: "no-store", credentials: "omit" });
    if (!resp.ok) return;
    const c = await resp.json();
    set("p-present", c.present);
    set("p-paper-voters", c.paper.voters);
    set("p-paper-valid", c.paper.ballots_valid);
    set("p-paper-invalid", c.paper.ballots_invalid);
    set("p-board-ballots", c.board.ballots);
    document.getElementById("p-board-head").textContent = c.board.head;
    document.getElementById("p-close-entry").textContent = c.entry_hash;
    closeBox.hidden = false;
    closeShown = true;
  }
  async function tick() {
    try {
      const resp = await fetch(url, { cache: "no-store", credentials: "omit" });
      if (resp.ok) {
        const c = await resp.json();
        set("c-tokens", c.tokens);
        set("c-ballots", c.ballots);
        set("c-eligible", c.eligible);
        if (c.status === "closed" || c.status === "tallied" || c.status === "published") showClose();
        status.textContent = c.status === "open" ? status.dataset.open
          : (c.status === "draft" || c.status === "key_ceremony") ? status.dataset.other : status.dataset.closed;
      }
    } catch (e) {
      /* the next poll tries again */
    }
    setTimeout(tick, 3000);
  }
  tick();
})();
