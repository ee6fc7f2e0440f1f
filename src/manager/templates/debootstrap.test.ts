// The mirror debootstrap uses: the host's apt sources in both formats, the env override.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianMirror, hostDebianMirror, hostSuite } from './debootstrap.js';

function aptDir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'moat-apt-'));
  mkdirSync(join(d, 'sources.list.d'));
  for (const [n, t] of Object.entries(files)) writeFileSync(join(d, n), t);
  return d;
}

test('deb822 sources: the entry serving the suite, not the security archive', () => {
  const d = aptDir({ 'sources.list.d/debian.sources': 'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n' });
  try {
    assert.equal(hostDebianMirror('bookworm', d), 'http://mirror.example/debian');
    assert.equal(hostDebianMirror('trixie', d), undefined);
  } finally {
    rmSync(d, { recursive: true });
  }
});

test('one-line sources, with options', () => {
  const d = aptDir({ 'sources.list': '# x\ndeb [arch=amd64] http://ftp.example/debian bookworm main\ndeb http://security.debian.org/debian-security bookworm-security main\n' });
  try {
    assert.equal(hostDebianMirror('bookworm', d), 'http://ftp.example/debian');
  } finally {
    rmSync(d, { recursive: true });
  }
});

test('MOAT_DEBIAN_MIRROR overrides the host', () => {
  process.env.MOAT_DEBIAN_MIRROR = 'http://local/debian';
  try {
    assert.equal(debianMirror('bookworm'), 'http://local/debian');
  } finally {
    delete process.env.MOAT_DEBIAN_MIRROR;
  }
});

test('the host suite from os-release', () => {
  const d = mkdtempSync(join(tmpdir(), 'moat-os-'));
  try {
    writeFileSync(join(d, 'os'), 'PRETTY_NAME="Debian GNU/Linux 13"\nID=debian\nVERSION_CODENAME=trixie\n');
    assert.equal(hostSuite(join(d, 'os')), 'trixie');
    writeFileSync(join(d, 'os'), 'ID=ubuntu\nVERSION_CODENAME=noble\n');
    assert.equal(hostSuite(join(d, 'os')), 'bookworm');
  } finally {
    rmSync(d, { recursive: true });
  }
});
