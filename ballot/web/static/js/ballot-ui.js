// Long ballots on the phone page (docs/web.md, "Long ballots"): sections per group or kind,
// each unit's kind and group (a committee's cadres), "next unmarked row", the review screen's
// per-level counts and quota note. Pure helpers on the manifest and the marks; voter.js
// renders with them. Nothing here touches tokens, keys or storage.
"use strict";
window.BallotUI = (() => {
  // A section starts where the group changes (or the kind, when no unit has a group).
  function sectionKey(manifest, i) {
    const u = manifest.units[i];
    const grouped = manifest.units.some((x) => x.group);
    return grouped ? u.group || "" : u.kind || "";
  }
  function sectionStarts(manifest) {
    const kinds = new Set(manifest.units.map((u) => u.kind));
    const groups = new Set(manifest.units.map((u) => u.group || ""));
    if (kinds.size <= 1 && groups.size <= 1) return []; // one section: no heading
    const starts = [];
    manifest.units.forEach((_, i) => {
      if (i === 0 || sectionKey(manifest, i) !== sectionKey(manifest, i - 1)) starts.push(i);
    });
    return starts;
  }
  function sectionTitle(manifest, i, S) {
    const u = manifest.units[i];
    const grouped = manifest.units.some((x) => x.group);
    if (grouped) return u.group ? u.group : S.group_none;
    return kindName(u.kind, S);
  }
  function kindName(kind, S) {
    return S[`kind_${kind}`] || kind;
  }
  // Kind and group under the name: shown when the ballot mixes kinds or is a committee's.
  function showsKind(manifest) {
    return manifest.meeting_kind === "committee_units" || new Set(manifest.units.map((u) => u.kind)).size > 1;
  }

  // choices: per unit a level index, "A" (abstain) or null (unmarked).
  function levelCounts(levels, choices) {
    const counts = levels.map(() => 0);
    let abstain = 0;
    let unmarked = 0;
    for (const c of choices) {
      if (c === null) unmarked++;
      else if (c === "A") abstain++;
      else counts[c]++;
    }
    return { counts, abstain, unmarked };
  }

  function fraction(text) {
    const m = /^(\d+)\/(\d+)$/.exec(String(text || ""));
    return m ? [Number(m[1]), Number(m[2])] : null;
  }
  // The quota (docs/counting.md): in each group at most X_max = ⌊p·n/(p+q)⌋ units keep the
  // top level, n = units at the "against" level or better. On one ballot this is only a
  // note: the quota applies to the counted results, and the ballot stays valid.
  function quotaNotes(manifest, levels, choices) {
    const q = manifest.rules && manifest.rules.quota;
    if (!q) return [];
    const top = levels.findIndex((l) => l.code === q.top);
    const against = levels.findIndex((l) => l.code === q.against);
    if (top < 0 || against < 0) return [];
    const groups = new Map();
    manifest.units.forEach((u, i) => {
      const g = u.group || "";
      if (!groups.has(g)) groups.set(g, { x: 0, n: 0 });
      const c = choices[i];
      if (Number.isInteger(c) && c <= against) groups.get(g).n++;
      if (c === top) groups.get(g).x++;
    });
    const notes = [];
    for (const [g, { x, n }] of groups) {
      const ratio = fraction((q.group_ratios && q.group_ratios[g]) || q.ratio || "1/5");
      if (!ratio) continue;
      const xmax = Math.floor((ratio[0] * n) / (ratio[0] + ratio[1]));
      if (x > xmax) notes.push({ group: g, x, n, xmax, ratio: `${ratio[0]}/${ratio[1]}` });
    }
    return notes;
  }

  // The next unmarked, visible row after row `from` (wrapping around), or -1.
  function nextUnmarked(choices, from, visible) {
    const n = choices.length;
    for (let k = 1; k <= n; k++) {
      const i = (from + k + n) % n;
      if (choices[i] === null && (!visible || visible(i))) return i;
    }
    return -1;
  }

  // "Set every unmarked row to its proposed level": the index of each unit's proposed level.
  function proposedChoices(manifest, levels, choices) {
    return choices.map((c, i) => {
      if (c !== null) return c;
      const j = levels.findIndex((l) => l.code === manifest.units[i].proposed_level);
      return j >= 0 ? j : null;
    });
  }
  function hasProposals(manifest, levels) {
    return manifest.units.some((u) => levels.some((l) => l.code === u.proposed_level));
  }

  return { sectionStarts, sectionTitle, kindName, showsKind, levelCounts, quotaNotes,
           nextUnmarked, proposedChoices, hasProposals };
})();
