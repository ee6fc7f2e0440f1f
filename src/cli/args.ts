// A small argument parser with runc's conventions: `--flag value`, `--flag=value`, `-f value`,
// boolean flags, repeatable flags, and `--` ending the flags.

/** One flag a command takes. */
export interface FlagSpec {
  type: 'bool' | 'string' | 'strings';
  alias?: string;
  help: string;
}

/** Flags parsed, and the positional arguments left. */
export interface ParsedArgs {
  flags: Record<string, string | boolean | string[]>;
  rest: string[];
}

/** A usage error: the CLI prints it with the command's help and exits 1. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}

/** Parses `argv` against `specs`. Flags stop at the first positional when `stopAtPositional`
 * is set (for `exec ID CMD ARGS...`, whose CMD may have flags of its own). */
export function parseArgs(argv: string[], specs: Record<string, FlagSpec>, stopAtPositional = false): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const rest: string[] = [];
  const own = (k: string | undefined) => (k !== undefined && Object.hasOwn(specs, k) ? k : undefined);
  const byAlias = new Map(Object.entries(specs).filter(([, s]) => s.alias).map(([n, s]) => [s.alias!, n]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      if (stopAtPositional) {
        rest.push(...argv.slice(i + 1));
        break;
      }
      continue;
    }
    const eq = a.indexOf('=');
    const raw = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : a.slice(1, eq > 0 ? eq : undefined);
    const name = a.startsWith('--') ? own(raw) : byAlias.get(raw) ?? own(raw);
    const spec = name ? specs[name] : undefined;
    if (!name || !spec) throw new UsageError(`unknown flag \`${a}\``);
    if (spec.type === 'bool') {
      flags[name] = eq > 0 ? a.slice(eq + 1) !== 'false' : true;
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`flag \`${a}\` needs a value`);
    if (spec.type === 'strings') flags[name] = [...((flags[name] as string[]) ?? []), value];
    else flags[name] = value;
  }
  return { flags, rest };
}

/** Splits the global flags (before the command) from the command and its arguments. */
export function splitGlobalArgs(argv: string[], specs: Record<string, FlagSpec>): { global: string[]; command?: string; rest: string[] } {
  const global: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) return { global, command: a, rest: argv.slice(i + 1) };
    global.push(a);
    const name = a.replace(/^--?/, '').split('=')[0]!;
    const spec = (Object.hasOwn(specs, name) ? specs[name] : undefined) ?? Object.values(specs).find((s) => s.alias === name);
    if (spec && spec.type !== 'bool' && !a.includes('=')) global.push(argv[++i] ?? '');
  }
  return { global, rest: [] };
}

/** Help text for a set of flags. */
export function flagHelp(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([n, s]) => `  ${s.alias ? `-${s.alias}, ` : '    '}--${n}${s.type === 'bool' ? '' : ' VALUE'}`.padEnd(34) + s.help)
    .join('\n');
}
