// Command-line arguments of `novuspack-stream`: options with values, sizes with suffixes
// (1M, 256K, 4GiB), negative numbers that node:util's parser would take for options, and
// "did you mean" for misspelt options and commands.

import { closest } from '../src/options.js';

export class UsageError extends Error {}

const SUFFIXES = {
  '': 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * A byte count or offset: digits with an optional binary suffix (K, M, G, T; KiB, MiB, ... the
 * same; case-insensitive). `undefined` stays undefined.
 */
export function size(name, value, min, max) {
  if (value === undefined) return undefined;
  const m = /^(\d+)\s*([a-z]*)$/i.exec(String(value).trim());
  const unit = m ? SUFFIXES[m[2].toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `--${name} must be a whole number of bytes from ${min} to ${max} (suffixes K, M, G: 256K, 1M), not ${JSON.stringify(String(value))}`,
    );
  }
  return n;
}

/** A plain integer option (a level, say). */
export function integer(name, value, min, max) {
  if (value === undefined) return undefined;
  const n = /^-?\d+$/.test(String(value).trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(String(value))}`);
  return n;
}

/**
 * Parses `argv` against `options` ({ name: { value: true } | { value: false, short } }):
 * returns { positionals, values }. Unknown options are a UsageError with a suggestion; an
 * option that takes a value takes the next argument whatever it looks like (`--offset -5`).
 */
export function parse(argv, options) {
  const names = Object.keys(options);
  const shorts = Object.fromEntries(
    Object.entries(options)
      .filter(([, o]) => o.short)
      .map(([n, o]) => [o.short, n]),
  );
  const values = {};
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name;
    let inline;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (arg.length > 1 && arg.startsWith('-') && arg !== '-') {
      name = shorts[arg.slice(1)];
      if (!name) throw unknownOption(arg, names);
    } else {
      positionals.push(arg);
      continue;
    }
    const option = options[name];
    if (!option) throw unknownOption(`--${name}`, names);
    if (!option.value) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    values[name] = value;
  }
  return { positionals, values };
}

function unknownOption(arg, names) {
  const guess = closest(arg.replace(/^-+/, ''), names);
  return new UsageError(`unknown option ${arg}${guess ? ` (did you mean --${guess}?)` : ''}`);
}
