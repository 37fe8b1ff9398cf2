// Build ballot/web/static/js/ballot-crypto.js: one self-contained IIFE (window.BallotCrypto)
// from js/src with its dependencies (libsodium wasm inlined, @noble/hashes), for the phone page.
//
//   node build.mjs                 # write the committed bundle
//   node build.mjs --out FILE      # write elsewhere (tests compare it with the committed one)
//   node build.mjs --print-hash    # print the source hash only
//
// The first line is `/* ballot-crypto source-sha256: <hex> */`, the SHA-256 over the sorted
// repo-relative paths of js/src/** and js/package-lock.json, each as path, NUL, bytes, NUL;
// tests/web/test_js_bundle.py recomputes it (without npm) to find a stale bundle.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const JS_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(JS_DIR, "..");
export const BUNDLE = join(ROOT, "ballot", "web", "static", "js", "ballot-crypto.js");
// The observer's verifier page (docs/web.md, "Observers"): the same crypto, the verifier and
// the page's code; inlined into one self-contained HTML file by ballot/web/verifier.py.
export const VERIFIER_BUNDLE = join(ROOT, "ballot", "web", "static", "js", "ballot-verifier.js");

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

export function sourceHash() {
  const files = [...walk(join(JS_DIR, "src")), join(JS_DIR, "package-lock.json")]
    .map((p) => ({ abs: p, rel: relative(ROOT, p).split(sep).join("/") }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.rel, "utf8"), Buffer.from(b.rel, "utf8")));
  const h = createHash("sha256");
  for (const f of files) {
    h.update(Buffer.from(f.rel, "utf8"));
    h.update(Buffer.from([0]));
    h.update(readFileSync(f.abs));
    h.update(Buffer.from([0]));
  }
  return h.digest("hex");
}

export async function buildBundle(outfile = BUNDLE, { entry = "src/index.js", name = "BallotCrypto", label = "ballot-crypto" } = {}) {
  const { build } = await import("esbuild");
  const hash = sourceHash();
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await build({
    absWorkingDir: JS_DIR,
    entryPoints: [entry],
    bundle: true,
    format: "iife",
    globalName: name,
    platform: "browser",
    target: ["es2020"],
    minify: true,
    legalComments: "eof",
    charset: "ascii",
    banner: {
      js:
        `/* ${label} source-sha256: ${hash} */\n` +
        `/* ${name} (docs/js-client.md), built from js/ by \`npm run build\`: do not edit. ` +
        "Bundles libsodium.js (ISC licence) and @noble/hashes (MIT licence). */",
    },
    define: { "import.meta.url": "undefined" },
    write: false,
    logLevel: "error",
  });
  let text = result.outputFiles[0].contents;
  // Inlined into an HTML page (the verifier): no "</script" may appear in the code.
  if (Buffer.from(text).includes("</script")) text = Buffer.from(Buffer.from(text).toString("latin1").replaceAll("</script", "<\\/script"), "latin1");
  writeFileSync(outfile, text);
  return { outfile, hash, bytes: text.length };
}

export const VERIFIER = { entry: "src/verifier/index.js", name: "BallotVerifier", label: "ballot-verifier" };

async function main(argv) {
  if (argv.includes("--print-hash")) {
    console.log(sourceHash());
    return;
  }
  const i = argv.indexOf("--out");
  const out = i >= 0 ? resolve(argv[i + 1]) : BUNDLE;
  const v = argv.indexOf("--verifier-out");
  const targets = [[out, {}], [v >= 0 ? resolve(argv[v + 1]) : VERIFIER_BUNDLE, VERIFIER]];
  for (const [target, options] of i >= 0 && v < 0 ? targets.slice(0, 1) : targets) {
    const { outfile, hash, bytes } = await buildBundle(target, options);
    console.log(`wrote ${relative(process.cwd(), outfile) || outfile} (${bytes} bytes, source-sha256 ${hash})`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
