// After the meeting, the phone's stored receipt checked against the board (docs/web.md,
// "The receipt after the meeting"). UI only: voter.js calls BallotReceiptCheck.render with
// its API helper, the election's status and the stored receipt; the texts are the page's
// (templates/vote.html, #receipt-after), shown or hidden here.
"use strict";
window.BallotReceiptCheck = (() => {
  const $ = (id) => document.getElementById(id);
  const AFTER = ["closed", "tallied", "published"];
  let run = 0;

  function hideAll() {
    for (const id of ["after-on-board", "after-missing", "after-counted", "after-not-yet",
                      "after-unreachable", "after-results"]) $(id).hidden = true;
  }

  // api(method, path): voter.js's fetch helper; receipt: the stored, signed receipt.
  async function render({ api, status, receipt, numberFormat }) {
    const box = $("receipt-after");
    if (!box) return;
    hideAll();
    box.hidden = !AFTER.includes(status);
    if (box.hidden || !receipt) return;
    const mine = ++run;
    let board = null;
    try {
      board = (await api("GET", "/board")).board;
    } catch (e) {
      board = null;
    }
    if (mine !== run) return; // a newer check is under way
    if (!board) {
      $("after-unreachable").hidden = false;
      return;
    }
    const want = String(receipt.tracking_code).toUpperCase();
    const hit = board.find((e) => String(e.tracking_code).toUpperCase() === want);
    if (hit && hit.entry_hash === receipt.entry_hash) {
      $("after-position").textContent = numberFormat.format(hit.position);
      $("after-on-board").hidden = false;
      const counted = status === "tallied" || status === "published";
      $("after-counted").hidden = !counted;
      $("after-not-yet").hidden = counted;
      $("after-results").hidden = !counted;
    } else {
      $("after-missing").hidden = false;
    }
  }

  return { render, AFTER };
})();
