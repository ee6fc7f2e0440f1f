// The template registry: `host`, `busybox`, `debian` and `oci:DIR`.
import { resolve } from 'node:path';
import type { ConfigIssue } from '../../spec/issues.js';
import { busyboxTemplate } from './busybox.js';
import { debianTemplate } from './debian.js';
import { hostTemplate } from './host.js';
import { ociTemplate } from './oci.js';
import type { Template } from './types.js';

export type { Template } from './types.js';

/** Templates this build can make sandboxes from. */
export const TEMPLATES: Record<string, Template> = { host: hostTemplate, busybox: busyboxTemplate, debian: debianTemplate };

/** Why a template name cannot be used here (empty when it can). */
export function templateIssues(name: string): ConfigIssue[] {
  if (name.startsWith('oci:')) return name.length > 4 ? ociTemplate(name.slice(4)).hostIssues() : [{ code: 'ERR_TEMPLATE', path: '--template', message: '`oci:` needs the image layout\'s directory: oci:DIR' }];
  const t = TEMPLATES[name];
  if (t) return t.hostIssues();
  return [{ code: 'ERR_TEMPLATE', path: '--template', message: `no template \`${name}\`: use ${Object.keys(TEMPLATES).join(', ')} or oci:DIR` }];
}

/** The template of a name that `templateIssues` accepted. */
export function getTemplate(name: string): Template {
  if (name.startsWith('oci:')) return ociTemplate(name.slice(4));
  const t = TEMPLATES[name];
  if (!t) throw new Error(`no template \`${name}\``);
  return t;
}

/** A template name as stored: `oci:DIR` with DIR made absolute (relative to the cwd). */
export function normalizeTemplateName(name: string): string {
  return name.startsWith('oci:') && name.length > 4 ? `oci:${resolve(name.slice(4))}` : name;
}
