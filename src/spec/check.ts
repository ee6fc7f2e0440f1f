// Small typed checks over untrusted JSON that record issues with their JSON path.
import { IssueList, jsonPath } from './issues.js';

export type Json = unknown;

/** True for a plain JSON object. */
export function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads typed fields of one object, recording an issue for each wrong one. */
export class Fields {
  constructor(readonly obj: Record<string, Json>, readonly path: string, readonly issues: IssueList) {}

  at(key: string): string {
    return jsonPath(this.path, key);
  }
  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }
  str(key: string, required = false): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return this.missing(key, required);
    if (typeof v !== 'string') return this.wrong(key, 'a string');
    return v;
  }
  bool(key: string): boolean | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.wrong(key, 'true or false');
    return v;
  }
  int(key: string, min: number, max: number, required = false): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return this.missing(key, required);
    if (typeof v !== 'number' || !Number.isInteger(v)) return this.wrong(key, 'an integer');
    if (v < min || v > max) {
      this.issues.add('out_of_range', this.at(key), `must be between ${min} and ${max}, not \`${v}\``);
      return undefined;
    }
    return v;
  }
  obj_(key: string, required = false): Fields | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return this.missing(key, required);
    if (!isObject(v)) return this.wrong(key, 'an object');
    return new Fields(v, this.at(key), this.issues);
  }
  arr(key: string, required = false): Json[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return this.missing(key, required);
    if (!Array.isArray(v)) return this.wrong(key, 'an array');
    return v;
  }
  strs(key: string, required = false): string[] | undefined {
    const a = this.arr(key, required);
    if (!a) return undefined;
    const out: string[] = [];
    a.forEach((s, i) => {
      if (typeof s === 'string') out.push(s);
      else this.issues.add('invalid_type', jsonPath(this.at(key), i), 'must be a string');
    });
    return out;
  }
  /** Each element of an array of objects, with its own Fields. */
  each(key: string, required = false): Fields[] {
    const a = this.arr(key, required) ?? [];
    const out: Fields[] = [];
    a.forEach((v, i) => {
      if (isObject(v)) out.push(new Fields(v, jsonPath(this.at(key), i), this.issues));
      else this.issues.add('invalid_type', jsonPath(this.at(key), i), 'must be an object');
    });
    return out;
  }
  private missing(key: string, required: boolean): undefined {
    if (required) this.issues.add('required', this.at(key), 'is required');
    return undefined;
  }
  private wrong(key: string, what: string): undefined {
    this.issues.add('invalid_type', this.at(key), `must be ${what}`);
    return undefined;
  }
}

/** True for an absolute path with no `..` component and no NUL. */
export function isCleanAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('\0') && !p.split('/').includes('..');
}

/** Normalises an absolute path: no duplicate or trailing slashes, no `.` components. */
export function cleanPath(p: string): string {
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  return '/' + parts.join('/');
}
