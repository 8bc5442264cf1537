// Options objects: unknown names are refused, naming the closest known one (a misspelt `keyy`
// must never silently mean "no key"). The names come from the Rust core (tables.js).
import { invalid, errorOf } from './errors.js';
import { OPTION_NAMES } from './tables.js';

/** Edit distance between two short strings. */
function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = above;
    }
  }
  return row[b.length];
}

/**
 * The known name closest to `name`: the only one it is a prefix of (or that is a prefix of it),
 * else the nearest by edit distance if within about a third of its length; else undefined.
 */
export function closest(name, known) {
  const lower = name.toLowerCase();
  const prefixed = known.filter((k) => k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()));
  if (prefixed.length === 1) return prefixed[0];
  let best;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(Math.max(name.length, best?.length ?? 0) / 3)) ? best : undefined;
}

/**
 * Checks that `options` is undefined, null or an object whose own names are all in
 * OPTION_NAMES[kind]; returns it (or {}). `what` names the options in messages.
 */
export function checkOptions(options, kind, what) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw invalid(what, options, 'an object');
  const known = OPTION_NAMES[kind];
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const guess = closest(name, known);
    throw errorOf('INVALID_ARGUMENT', `unknown option ${name} in ${what}${guess ? ` (did you mean ${guess}?)` : ''}`, {
      field: name,
      expected: `one of ${known.join(', ')}`,
    });
  }
  return options;
}
