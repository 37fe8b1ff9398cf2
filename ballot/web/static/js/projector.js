// Projector page: counts only, polled from /api/v1/elections/<slug>/counters every 3 s.
"use strict";
(() => {
  const root = document.getElementById("projector");
  const url = root.dataset.counters;
  const lang = document.documentElement.lang || "vi";
  const fmt = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB");
  const status = document.getElementById("c-status");
  const set = (id, n) => { document.getElementById(id).textContent = fmt.format(n); };
  async function tick() {
    try {
      const resp = await fetch(url, { cache: "no-store", credentials: "omit" });
      if (resp.ok) {
        const c = await resp.json();
        set("c-tokens", c.tokens);
        set("c-ballots", c.ballots);
        set("c-eligible", c.eligible);
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
