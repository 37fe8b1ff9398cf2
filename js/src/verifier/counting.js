// The rules engine, as ballot/election/counting.py (with decide, quorum, quota, constraints,
// second_round): from every unit's counts and the meeting figures to the results JSON
// (CountResult.to_json), byte for byte, so that the verifier can compare it with the record's.

import { Fraction, formatFraction } from "./fraction.js";
import { checkRuleLevels, checkUnits } from "./manifest.js";
import { isInt, isObject, pyRepr, sortStrings } from "./pyfmt.js";

export class CountError extends Error {
  constructor(message) {
    super(message);
    this.name = "CountError";
  }
}

const text = (vi, en) => ({ vi, en });

export const BASE_TEXT = {
  convened_minus_excluded: text("N = số đảng viên chính thức được triệu tập − số được trừ", "N = official members convened − excluded"),
  present: text("N = số đảng viên có mặt", "N = members present"),
  valid_ballots: text("N = số phiếu hợp lệ", "N = valid ballots"),
};

// -- counts and figures (counts.py) ------------------------------------------------------------------

function count(v, name) {
  if (!isInt(v) || v < 0) throw new CountError(`${name}: expected a count (an integer ≥ 0), got ${pyRepr(v)}`);
}

/** UnitCounts: votes (sorted pairs), abstain, blank. */
export function unitCounts(votes, abstain = 0, blank = 0) {
  if (!isObject(votes)) throw new CountError("votes: expected a mapping");
  const codes = sortStrings(Object.keys(votes));
  for (const c of codes) count(votes[c], `votes.${c}`);
  count(abstain, "abstain");
  count(blank, "blank");
  const map = new Map(codes.map((c) => [c, votes[c]]));
  const marked = codes.reduce((s, c) => s + votes[c], 0);
  return Object.freeze({
    codes,
    abstain,
    blank,
    vote: (code) => map.get(code) || 0,
    marked,
    rows: marked + abstain + blank,
    toJson() {
      const v = {};
      for (const c of codes) v[c] = map.get(c);
      return { votes: v, abstain, blank };
    },
  });
}

function figureInt(v, name, { lo = null, hi = null, none = false } = {}) {
  if (v === null && none) return;
  if (!isInt(v)) throw new CountError(`${name}: expected an integer, got ${v === null ? "null" : typeof v === "boolean" ? "a boolean" : pyRepr(v)}`);
  if (lo !== null && v < lo) throw new CountError(`${name}: must be at least ${lo}, got ${v}`);
  if (hi !== null && v > hi) throw new CountError(`${name}: must be at most ${hi}, got ${v}`);
}

/** MeetingFigures(convened, excluded, present, ballots_valid, ballots_invalid, ballots_issued). */
export function meetingFigures(convened, excluded, present, ballotsValid, ballotsInvalid = 0, ballotsIssued = null) {
  figureInt(convened, "convened", { lo: 1 });
  figureInt(excluded, "excluded", { lo: 0, hi: convened - 1 });
  figureInt(present, "present", { lo: 0 });
  figureInt(ballotsValid, "ballots_valid", { lo: 0 });
  figureInt(ballotsInvalid, "ballots_invalid", { lo: 0 });
  figureInt(ballotsIssued, "ballots_issued", { lo: 0, none: true });
  const rollBase = convened - excluded;
  if (present > rollBase) {
    throw new CountError(`present: ${present} exceeds convened − excluded = ${rollBase} (count only members entitled to vote)`);
  }
  const issued = ballotsIssued !== null ? ballotsIssued : present;
  const what = ballotsIssued !== null ? "ballots_issued" : "present";
  if (ballotsIssued !== null && ballotsIssued > present) throw new CountError(`ballots_issued: ${ballotsIssued} exceeds present = ${present}`);
  const returned = ballotsValid + ballotsInvalid;
  if (returned > issued) throw new CountError(`ballots_valid: valid + invalid = ${returned} exceeds ${what} = ${issued}`);
  return Object.freeze({
    convened, excluded, present, ballotsValid, ballotsInvalid, ballotsIssued, rollBase,
    base(kind) {
      if (kind === "convened_minus_excluded") return rollBase;
      if (kind === "present") return present;
      if (kind === "valid_ballots") return ballotsValid;
      throw new CountError(`base: unknown base ${pyRepr(kind)}`);
    },
    toJson() {
      return { convened, excluded, present, ballots_issued: ballotsIssued, ballots_valid: ballotsValid, ballots_invalid: ballotsInvalid };
    },
  });
}

// -- pieces -------------------------------------------------------------------------------------------

const frac = (f) => (f === null ? null : formatFraction(f));

function shares(levels, c, n) {
  const out = {};
  for (const lv of levels) out[lv.code] = n ? formatFraction(new Fraction(BigInt(c.vote(lv.code)), BigInt(n))) : null;
  return out;
}

function unitResult(uid, counts, n, levels, level, outcome, rule, votedLevel = null, cumulative = false, flags = []) {
  return {
    unit_id: uid,
    counts: counts.toJson(),
    base: n,
    shares: shares(levels, counts, n),
    level,
    voted_level: votedLevel,
    outcome,
    cumulative,
    rule,
    flags,
  };
}

function checkQuorum(required, figures) {
  const ref = figures.rollBase;
  const present = figures.present;
  const met = BigInt(present) * required.d >= required.n * BigInt(ref);
  const r = formatFraction(required);
  const t = met
    ? text(`Đủ số lượng: có mặt ${present} ≥ ${r} × ${ref}`, `Quorum met: ${present} present ≥ ${r} × ${ref}`)
    : text(`Không đủ số lượng: có mặt ${present} < ${r} × ${ref}`, `Quorum not met: ${present} present < ${r} × ${ref}`);
  return { met, json: { required: frac(required), present, reference: ref, met, text: t } };
}

function decide(levels, rules, c, n) {
  if (n <= 0) return { level: null, cumulative: false, rule: text("N = 0: không mức nào có thể đạt", "N = 0: no level can pass") };
  for (const lv of levels) {
    const votes = c.vote(lv.code);
    const t = rules.thresholdFor(lv.code);
    if (t.passes(votes, n)) {
      return { level: lv.code, cumulative: false, rule: text(`${lv.code}: ${votes}/${n} phiếu ${t.describe()}`, `${lv.code}: ${votes}/${n} votes ${t.describe()}`) };
    }
  }
  if (rules.cumulative) {
    let total = 0;
    const parts = [];
    for (const lv of levels) {
      const votes = c.vote(lv.code);
      total += votes;
      parts.push(`${lv.code} ${votes}`);
      const t = rules.thresholdFor(lv.code);
      if (t.passes(total, n)) {
        const summed = parts.join(" + ");
        return {
          level: lv.code, cumulative: true,
          rule: text(`${lv.code}: ${total}/${n} phiếu ${t.describe()} (cộng dồn: ${summed})`, `${lv.code}: ${total}/${n} votes ${t.describe()} (cumulative: ${summed})`),
        };
      }
    }
  }
  let best = levels[0];
  for (const lv of levels) if (c.vote(lv.code) > c.vote(best.code)) best = lv;
  const votes = c.vote(best.code);
  const need = rules.thresholdFor(best.code).describe();
  const alsoVi = rules.cumulative ? ", kể cả cộng dồn" : "";
  const alsoEn = rules.cumulative ? ", cumulative fallback included" : "";
  return {
    level: null, cumulative: false,
    rule: text(`Không mức nào đạt ngưỡng${alsoVi}: nhiều phiếu nhất ${best.code} ${votes}/${n} (cần ${need})`,
      `No level reached its threshold${alsoEn}: most votes ${best.code} ${votes}/${n} (needs ${need})`),
  };
}

function keyEq(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** split_at_cut: [(id, key)] best first → kept, tied, cut for `places` places. */
export function splitAtCut(ranked, places) {
  const kept = [];
  const tied = [];
  const cut = [];
  let i = 0;
  while (i < ranked.length) {
    let j = i;
    while (j < ranked.length && keyEq(ranked[j][1], ranked[i][1])) j++;
    const block = ranked.slice(i, j).map(([uid]) => uid);
    if (kept.length + tied.length + cut.length >= places || tied.length) cut.push(...block);
    else if (kept.length + block.length <= places) kept.push(...block);
    else tied.push(...block);
    i = j;
  }
  return [kept, tied, cut];
}

function ranked(cands, votes) {
  const byVotes = new Map();
  for (const u of cands) {
    const v = votes(u.unit_id);
    if (!byVotes.has(v)) byVotes.set(v, []);
    byVotes.get(v).push(u);
  }
  const out = [];
  for (const v of [...byVotes.keys()].sort((a, b) => b - a)) {
    let block = byVotes.get(v);
    if (block.every((u) => u.score !== null)) {
      block = [...block].sort((a, b) => b.score - a.score); // stable, as Python's sorted
      for (const u of block) out.push([u.unit_id, [v, u.score]]);
    } else {
      for (const u of block) out.push([u.unit_id, [v]]);
    }
  }
  return out;
}

function quotaGroup(group, ratio, n, xMax, limit, candidates, kept, cut, tied, second, t) {
  return { group, ratio: frac(ratio), n, x_max: xMax, limit, candidates: [...candidates], kept: [...kept], cut: [...cut], tied: [...tied], second_round: second, text: t };
}

function applyQuota(levels, rules, units, voted, topVotes) {
  const quota = rules.quota;
  const second = rules.secondRound;
  if (quota === null && !(second.enabled && second.max_k !== null)) return [[], [], new Map()];
  const codes = levels.map((l) => l.code);
  const top = quota ? quota.top : codes[0];
  const against = quota ? quota.against : codes[1];
  const belowTop = codes[codes.indexOf(top) + 1];
  const groups = new Map();
  for (const u of units) {
    const key = u.group === null ? "\u0000" : "g" + u.group;
    if (!groups.has(key)) groups.set(key, [u.group, []]);
    groups.get(key)[1].push(u);
  }
  const records = [];
  const ballots = [];
  const changes = new Map();
  for (const [group, members] of groups.values()) {
    const cands = members.filter((u) => voted.get(u.unit_id) === top);
    const n = members.filter((u) => voted.get(u.unit_id) !== null && codes.indexOf(voted.get(u.unit_id)) <= codes.indexOf(against)).length;
    const ratio = quota ? quota.ratioFor(group) : null;
    const xMax = ratio !== null ? quota.xMax(ratio, n) : null;
    const limits = [xMax, second.enabled ? second.max_k : null].filter((x) => x !== null);
    const limit = Math.min(...limits);
    const nameVi = group !== null ? group : "(chung)";
    const nameEn = group !== null ? group : "(default)";
    const formula = ratio !== null ? quota.formula(ratio, n) : `K = ${limit}`;
    const rk = ranked(cands, topVotes);
    const ids = rk.map(([uid]) => uid);
    if (cands.length <= limit) {
      records.push(quotaGroup(group, ratio, n, xMax, limit, ids, ids, [], [], false, text(
        `Nhóm ${nameVi}: ${cands.length} ${top} ≤ tối đa ${limit} (${formula}; n = ${n} đạt ${against} trở lên)`,
        `Group ${nameEn}: ${cands.length} ${top} ≤ at most ${limit} (${formula}; n = ${n} at ${against} or better)`)));
      continue;
    }
    if (second.enabled && limit > 0) {
      records.push(quotaGroup(group, ratio, n, xMax, limit, ids, [], [], [], true, text(
        `Nhóm ${nameVi}: ${cands.length} ${top} > tối đa ${limit} (${formula}); bỏ phiếu vòng hai, chọn tối đa ${limit}`,
        `Group ${nameEn}: ${cands.length} ${top} > at most ${limit} (${formula}); second round, vote for at most ${limit}`)));
      ballots.push({ group, candidates: [...ids], k: limit });
      for (const uid of ids) {
        changes.set(uid, { level: null, outcome: "second_round", rule: text(
          `Ứng viên ${top} vượt tỷ lệ nhóm ${nameVi} (tối đa ${limit}): chờ vòng hai`,
          `${top} candidate over the group ${nameEn} limit (at most ${limit}): second round`) });
      }
      continue;
    }
    const [kept, tied, cut] = splitAtCut(rk, limit);
    const places = limit - kept.length;
    records.push(quotaGroup(group, ratio, n, xMax, limit, ids, kept, cut, tied, false, text(
      `Nhóm ${nameVi}: ${cands.length} ${top} > tối đa ${limit} (${formula}; n = ${n} đạt ${against} trở lên); giữ ${kept.length}, bằng phiếu ${tied.length}, chuyển ${cut.length} xuống ${belowTop}`,
      `Group ${nameEn}: ${cands.length} ${top} > at most ${limit} (${formula}; n = ${n} at ${against} or better); kept ${kept.length}, tied ${tied.length}, ${cut.length} down to ${belowTop}`)));
    for (const uid of tied) {
      changes.set(uid, { level: null, outcome: "quota_tie", rule: text(
        `Bằng phiếu tại ngưỡng tỷ lệ ${top} nhóm ${nameVi}: ${tied.length} đơn vị cho ${places} chỗ (tối đa ${limit}); cấp có thẩm quyền quyết định`,
        `Tie at the ${top} quota cut of group ${nameEn}: ${tied.length} units for ${places} place(s) (at most ${limit}); for the deciding body`) });
    }
    const position = new Map(ids.map((uid, i) => [uid, i + 1]));
    const score = new Map(cands.map((u) => [u.unit_id, u.score]));
    for (const uid of cut) {
      const s = score.get(uid) === null ? "—" : String(score.get(uid));
      changes.set(uid, { level: belowTop, outcome: "cut_by_quota", rule: text(
        `Vượt tỷ lệ ${top} nhóm ${nameVi} (tối đa ${limit}, ${formula}): hạng ${position.get(uid)}/${ids.length} theo phiếu ${top} (${topVotes(uid)}) rồi điểm (${s}) → ${belowTop}`,
        `Over the ${top} quota of group ${nameEn} (at most ${limit}, ${formula}): ranked ${position.get(uid)}/${ids.length} by ${top} votes (${topVotes(uid)}) then score (${s}) → ${belowTop}`) });
    }
  }
  return [records, ballots, changes];
}

function constraintFlags(levels, constraints, units, final) {
  const codes = levels.map((l) => l.code);
  const rank = (c) => codes.indexOf(c);
  const lowest = codes[codes.length - 1];
  const flags = new Map(units.map((u) => [u.unit_id, []]));
  const members = new Map();
  for (const u of units) {
    if (u.collective !== null) {
      if (!members.has(u.collective)) members.set(u.collective, []);
      members.get(u.collective).push(u);
    }
  }
  for (const u of units) {
    const mine = final.has(u.unit_id) ? final.get(u.unit_id) : null;
    if (mine === null) continue;
    if (constraints.head_not_above_collective && u.boundByCollective) {
      const theirs = final.has(u.collective) ? final.get(u.collective) : null;
      if (theirs !== null && rank(mine) < rank(theirs)) {
        flags.get(u.unit_id).push({ code: "head_above_collective", unit_id: u.unit_id, related: [u.collective], text: text(
          `Xếp ${mine}, cao hơn tập thể ${u.collective} (${theirs})`, `rated ${mine}, above the collective ${u.collective} (${theirs})`) });
      }
    }
    if (constraints.disciplined_not_completed && u.disciplined && mine !== lowest) {
      flags.get(u.unit_id).push({ code: "disciplined_above_lowest", unit_id: u.unit_id, related: [], text: text(
        `Bị kỷ luật trong năm nhưng xếp ${mine} (quy định: ${lowest})`, `disciplined during the year but rated ${mine} (rule: ${lowest})`) });
    }
    if (constraints.collective_top_needs_clean_record && mine === codes[0]) {
      const bad = (members.get(u.unit_id) || []).filter((m) => m.disciplined).map((m) => m.unit_id);
      if (bad.length) {
        flags.get(u.unit_id).push({ code: "collective_top_with_disciplined", unit_id: u.unit_id, related: bad, text: text(
          `Tập thể xếp ${mine} nhưng có ${bad.join(", ")} bị kỷ luật trong năm`, `collective rated ${mine} though ${bad.join(", ")} was disciplined during the year`) });
      }
    }
  }
  return flags;
}

function checkCounts(levels, rules, units, counts, figures) {
  const codes = levels.map((l) => l.code);
  const ids = units.map((u) => u.unit_id);
  for (const uid of counts.keys()) if (!ids.includes(uid)) throw new CountError(`counts.${uid}: no such unit`);
  for (const uid of ids) {
    const c = counts.get(uid);
    if (!c) throw new CountError(`counts.${uid}: missing`);
    for (const code of c.codes) {
      if (!codes.includes(code)) throw new CountError(`counts.${uid}.votes.${code}: not a level (levels: ${codes.join(", ")})`);
    }
    if (c.abstain && !rules.abstainAllowed) throw new CountError(`counts.${uid}.abstain: ${c.abstain}, but the rules allow no abstention`);
    if (c.rows !== figures.ballotsValid) {
      throw new CountError(`counts.${uid}: ${c.marked} level votes + ${c.abstain} abstain + ${c.blank} blank = ${c.rows}, but there are ${figures.ballotsValid} valid ballots (each valid ballot has exactly one entry per row)`);
    }
  }
}

function resultJson(manifest, figures, n, quorum, units, quota = [], second = [], ballotB = null) {
  const out = {
    levels: manifest.json.levels,
    rules: manifest.json.rules,
    figures: figures.toJson(),
    base: n,
    base_text: BASE_TEXT[manifest.rules.base],
    quorum: quorum.json,
    units,
    quota,
    second_round: second,
  };
  if (ballotB !== null) out.ballot_b = ballotB;
  return out;
}

function quorumFailed(levels, units, counts, n, quorum) {
  return units.map((u) => unitResult(u.unit_id, counts.get(u.unit_id), n, levels, null, "quorum_failed", quorum.json.text));
}

/** check_at_most_k: a group's agree marks are at most K × the valid ballots. */
export function checkAtMostK(group, total, k, ballots) {
  if (!Number.isInteger(ballots) || ballots < 0) throw new CountError(`ballots: expected a count (an integer ≥ 0), got ${pyRepr(ballots)}`);
  if (total > k * ballots) {
    const name = group === null ? "" : `group ${group}: `;
    throw new CountError(`agree: ${name}${total} agree marks in all, but each of the ${ballots} valid ballots may mark agree for at most K = ${k} candidate(s), so at most K × valid ballots = ${k * ballots} (a ballot with more agree marks is invalid: count it as invalid, not in the agree totals)`);
  }
}

function secondRound(candidates, agree, maxK, base, threshold, ballots = null, group = null) {
  for (const uid of candidates) {
    const v = agree.get(uid);
    if (v > base) throw new CountError(`agree.${uid}: ${v} exceeds the base N = ${base}`);
  }
  if (ballots !== null) checkAtMostK(group, candidates.reduce((t, uid) => t + agree.get(uid), 0), maxK, ballots);
  const eligible = candidates.filter((uid) => threshold.passes(agree.get(uid), base));
  const byAgree = (list) => [...list].sort((a, b) => agree.get(b) - agree.get(a));
  const rk = byAgree(eligible);
  const [kept, tied] = splitAtCut(rk.map((uid) => [uid, [agree.get(uid)]]), maxK);
  const notSelected = candidates.filter((uid) => !kept.includes(uid) && !tied.includes(uid));
  const need = `, ${threshold.describe()}, N = ${base}`;
  return {
    k: maxK,
    ranked: byAgree(candidates).map((uid) => [uid, agree.get(uid)]),
    selected: kept,
    tied,
    not_selected: notSelected,
    text: text(`Vòng hai: chọn tối đa ${maxK}${need}; được chọn ${kept.length}, bằng phiếu ${tied.length}`,
      `Second round: at most ${maxK}${need}; selected ${kept.length}, tied ${tied.length}`),
  };
}

function countBallotB(manifest, counts, figures) {
  const { levels, rules, units, ballotB: bb } = manifest;
  checkCounts(levels, rules, units, counts, figures);
  const n = figures.base(rules.base);
  const agreeCode = levels[0].code;
  const quorum = checkQuorum(rules.quorum, figures);
  if (!quorum.met) return resultJson(manifest, figures, n, quorum, quorumFailed(levels, units, counts, n, quorum), [], [], []);
  const threshold = rules.thresholdFor(agreeCode);
  const groups = [];
  const outcome = new Map();
  for (const b of bb.ballots) {
    const agree = new Map(b.candidates.map((c) => [c, counts.get(c).vote(agreeCode)]));
    const res = secondRound(b.candidates, agree, b.k, n, threshold, figures.ballotsValid, b.group);
    groups.push({ group: b.group, candidates: [...b.candidates], ...res });
    const rank = new Map(res.ranked.map(([uid], i) => [uid, i + 1]));
    const nameVi = b.group !== null ? b.group : "(chung)";
    const nameEn = b.group !== null ? b.group : "(default)";
    for (const c of b.candidates) {
      const v = agree.get(c);
      const passes = threshold.passes(v, n);
      const cmp = passes ? threshold.symbol : threshold.negatedSymbol;
      const f = formatFraction(threshold.fraction);
      const headVi = `Đồng ý ${v} ${cmp} ${f} N (N = ${n})`;
      const headEn = `Agree ${v} ${cmp} ${f} N (N = ${n})`;
      const whereVi = `hạng ${rank.get(c)}/${b.candidates.length} nhóm ${nameVi}, chọn tối đa ${b.k}`;
      const whereEn = `ranked ${rank.get(c)}/${b.candidates.length} in group ${nameEn}, at most ${b.k}`;
      if (res.selected.includes(c)) outcome.set(c, ["selected", text(`${headVi}; ${whereVi}: được chọn`, `${headEn}; ${whereEn}: selected`)]);
      else if (res.tied.includes(c)) {
        outcome.set(c, ["second_round_tie", text(`${headVi}; ${whereVi}: bằng phiếu tại vị trí thứ ${b.k} — cấp có thẩm quyền quyết định`,
          `${headEn}; ${whereEn}: tied at place ${b.k} — for the deciding body`)]);
      } else if (!passes) outcome.set(c, ["not_selected", text(`${headVi}: không đủ quá nửa, không được chọn`, `${headEn}: no majority, not selected`)]);
      else {
        outcome.set(c, ["not_selected", text(`${headVi}; ${whereVi}: ngoài ${b.k} người, không được chọn`,
          `${headEn}; ${whereEn}: below the ${b.k} places, not selected`)]);
      }
    }
  }
  const results = units.map((u) => unitResult(u.unit_id, counts.get(u.unit_id), n, levels, null, outcome.get(u.unit_id)[0], outcome.get(u.unit_id)[1]));
  return resultJson(manifest, figures, n, quorum, results, [], [], groups);
}

/** count_manifest(manifest, counts (Map unit id → unitCounts), figures) → results JSON. */
export function countManifest(manifest, counts, figures) {
  if (manifest.roll.length) {
    if (figures.convened !== manifest.convened) {
      throw new CountError(`figures.convened: ${figures.convened}, but the roll has ${manifest.convened} official members`);
    }
    if (figures.excluded !== manifest.excluded) {
      throw new CountError(`figures.excluded: ${figures.excluded}, but the roll has ${manifest.excluded} excluded members`);
    }
  }
  if (manifest.ballotB !== null) return countBallotB(manifest, counts, figures);
  const { levels, rules, units } = manifest;
  checkRuleLevels(rules, manifest.codes);
  checkUnits(units, manifest.codes);
  checkCounts(levels, rules, units, counts, figures);
  const n = figures.base(rules.base);
  const quorum = checkQuorum(rules.quorum, figures);
  if (!quorum.met) return resultJson(manifest, figures, n, quorum, quorumFailed(levels, units, counts, n, quorum));
  const decisions = new Map(units.map((u) => [u.unit_id, decide(levels, rules, counts.get(u.unit_id), n)]));
  const voted = new Map([...decisions].map(([uid, d]) => [uid, d.level]));
  const top = rules.quota ? rules.quota.top : levels[0].code;
  const [groups, ballots, changes] = applyQuota(levels, rules, units, voted, (uid) => counts.get(uid).vote(top));
  const final = new Map();
  const staged = [];
  for (const u of units) {
    const d = decisions.get(u.unit_id);
    let level = d.level;
    let outcome = d.level ? "passed" : "no_majority";
    let rule = d.rule;
    const change = changes.get(u.unit_id);
    if (change !== undefined) {
      level = change.level;
      outcome = change.outcome;
      rule = text(`${d.rule.vi}; ${change.rule.vi}`, `${d.rule.en}; ${change.rule.en}`);
    }
    final.set(u.unit_id, level);
    staged.push([u, d, level, outcome, rule]);
  }
  const flags = constraintFlags(levels, rules.constraints, units, final);
  const results = staged.map(([u, d, level, outcome, rule]) =>
    unitResult(u.unit_id, counts.get(u.unit_id), n, levels, level, outcome, rule, d.level, d.cumulative, flags.get(u.unit_id)));
  return resultJson(manifest, figures, n, quorum, results, groups, ballots);
}
