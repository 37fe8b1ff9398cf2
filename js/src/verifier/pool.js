// The page's Web Workers: the ballots shared out across navigator.hardwareConcurrency workers,
// each running this same bundle (from a Blob URL, so the page works from file:// and makes no
// request), a chunk of 4 ballots at a time, as verify.py's worker processes.

const CHUNK = 4;

/** Start `count` workers from the bundle's source text; resolves when they are loaded. */
export function makeWorkers(source, count) {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const workers = Array.from({ length: count }, () => new Worker(url));
  return { workers, url };
}

/**
 * runBallots for verifyRecord: `source` is the bundle's text; `workers` how many (default the
 * device's cores). Falls back to this thread when workers cannot start.
 */
export function runBallotsInWorkers(source, workers = null) {
  return (params, entries, progress) => new Promise((resolve, reject) => {
    const n = Math.max(1, Math.min(workers || (typeof navigator !== "undefined" && navigator.hardwareConcurrency) || 2, Math.ceil(entries.length / CHUNK) || 1));
    const chunks = [];
    for (let i = 0; i < entries.length; i += CHUNK) chunks.push(entries.slice(i, i + CHUNK));
    const rows = [];
    const partials = [];
    if (!chunks.length) {
      resolve({ rows, partials });
      return;
    }
    const { workers: pool, url } = makeWorkers(source, n);
    let next = 0;
    let done = 0;
    const finish = (err) => {
      for (const w of pool) w.terminate();
      URL.revokeObjectURL(url);
      if (err) reject(err);
      else resolve({ rows, partials });
    };
    const feed = (w) => {
      if (next < chunks.length) {
        const id = next++;
        w.postMessage({ type: "chunk", id, chunk: chunks[id] });
      }
    };
    for (const w of pool) {
      w.onmessage = (ev) => {
        const m = ev.data;
        if (m.type === "ready") feed(w);
        else if (m.type === "done") {
          rows.push(...m.rows);
          partials.push(m.partial);
          done++;
          if (progress) progress(rows.length, entries.length);
          if (done === chunks.length) finish(null);
          else feed(w);
        } else if (m.type === "error") finish(new Error(m.message));
      };
      w.onerror = (ev) => {
        ev.preventDefault();
        finish(new Error(`a worker failed: ${ev.message || "unknown error"}`));
      };
      w.postMessage({ type: "init", params });
    }
  });
}
