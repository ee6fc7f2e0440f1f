// The runtime's log: `--log FILE` and `--log-format text|json` as runc takes them; warnings
// and errors also go to stderr. Writes are synchronous and never touch process.stdout,
// whose file description the container may share.
import { appendFileSync, writeSync } from 'node:fs';

interface LogConfig {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
  /** also print to stderr (the CLI does; the library does not) */
  stderr: boolean;
  /** the program named on stderr lines */
  name: string;
}

const config: LogConfig = { format: 'text', debug: false, stderr: false, name: 'moat-oci' };

/** Sees every line written to stderr (the Plan cache keeps a create's warnings, plan-cache.ts). */
export const logTap: { line?: (text: string) => void } = {};

/** Sets where log lines go. */
export function configureLog(c: Partial<LogConfig>): void {
  Object.assign(config, c);
}

/** Writes one log line at a level. */
export function log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
  if (level === 'debug' && !config.debug) return;
  const time = new Date().toISOString();
  if (config.file) {
    const line = config.format === 'json' ? JSON.stringify({ level: level === 'warn' ? 'warning' : level, msg, time }) : `${time} ${level}: ${msg}`;
    try {
      appendFileSync(config.file, line + '\n');
    } catch {
      /* a log we cannot write must not fail the operation */
    }
  }
  if (config.stderr && (level === 'warn' || (level === 'debug' && config.debug))) {
    try {
      const text = `${config.name}: ${level}: ${msg}\n`;
      logTap.line?.(text);
      writeSync(2, text);
    } catch {
      /* stderr closed */
    }
  }
}
