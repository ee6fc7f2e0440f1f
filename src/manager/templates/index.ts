// The template registry: `host`, `busybox`, `debian` and `oci:DIR`.
import type { ConfigIssue } from '../../spec/issues.js';
import { busyboxTemplate } from './busybox.js';
import { debianTemplate } from './debian.js';
import { hostTemplate } from './host.js';
import type { Template } from './types.js';

export type { Template } from './types.js';

/** Templates this build can make sandboxes from. */
export const TEMPLATES: Record<string, Template> = { host: hostTemplate, busybox: busyboxTemplate, debian: debianTemplate };

/** Why a template name cannot be used here (empty when it can). */
export function templateIssues(name: string): ConfigIssue[] {
  const t = TEMPLATES[name];
  if (t) return t.hostIssues();
  const planned = name.startsWith('oci:');
  return [{
    code: 'ERR_TEMPLATE', path: '--template',
    message: planned ? `template \`${name}\` is not built yet: use host or busybox` : `no template \`${name}\`: use ${Object.keys(TEMPLATES).join(' or ')}`,
  }];
}

/** The template of a name that `templateIssues` accepted. */
export function getTemplate(name: string): Template {
  const t = TEMPLATES[name];
  if (!t) throw new Error(`no template \`${name}\``);
  return t;
}
