// What a sandbox's networking set up, recorded in its directory (`network.json`) BEFORE each
// step is taken and updated after it, so that a `moat` killed at any point leaves a record
// the next command (stop, delete, start) reads to undo exactly that: CNI DEL with the
// config and last result it had, the pinned network namespace, a helper process.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import type { Layout } from '../layout.js';
import type { CniConfList } from './cni-config.js';
import type { PortMapping } from './publish.js';

/** A sandbox attached to a network through CNI (bridge and user networks). */
export interface CniAttachment {
  kind: 'cni';
  network: string;
  bridge: string;
  containerId: string;
  ifname: string;
  /** the bind mount that keeps the namespace alive (made before the first ADD) */
  netnsPin: string;
  confList: CniConfList;
  publish: PortMapping[];
  /** the result of each plugin of the list that finished ADD (the next one's prevResult) */
  results: unknown[];
  /** filled in once ADD of the whole list succeeded */
  addresses?: string[];
  gateway?: string;
  hostVeth?: string;
}

/** A sandbox whose network is a user-mode helper (pasta, slirp4netns). */
export interface HelperAttachment {
  kind: 'pasta' | 'slirp4netns';
  /** a path unique to this sandbox that is on the helper's command line, so a helper
   * started by a command killed before it recorded the pid is still found */
  marker: string;
  pid?: number;
  /** the helper's start time (/proc/PID/stat field 22), recorded with the pid */
  pidStart?: number;
  /** a pin of the sandbox's network namespace the helper was given, if any */
  netnsPin?: string;
  publish: PortMapping[];
  addresses?: string[];
}

export type Attachment = CniAttachment | HelperAttachment;

/** Path of a sandbox's record. */
export function attachmentPath(layout: Layout, name: string): string {
  return join(layout.sandbox(name), 'network.json');
}

/** The record of a sandbox, if it has one. */
export function readAttachment(layout: Layout, name: string): Attachment | undefined {
  try {
    return JSON.parse(readFileSync(attachmentPath(layout, name), 'utf8')) as Attachment;
  } catch {
    return undefined;
  }
}

/** Writes a sandbox's record (atomically: a crash leaves the old one or the new). */
export function writeAttachment(layout: Layout, name: string, a: Attachment): void {
  writeFileAtomic(attachmentPath(layout, name), JSON.stringify(a, null, 2) + '\n', 0o600);
}

export function removeAttachment(layout: Layout, name: string): void {
  rmSync(attachmentPath(layout, name), { force: true });
}

/** Every sandbox with a record, and the record. */
export function allAttachments(layout: Layout): { sandbox: string; a: Attachment }[] {
  let names: string[] = [];
  try {
    names = readdirSync(layout.sandboxes);
  } catch {
    return [];
  }
  const out: { sandbox: string; a: Attachment }[] = [];
  for (const n of names) {
    const a = readAttachment(layout, n);
    if (a) out.push({ sandbox: n, a });
  }
  return out;
}
