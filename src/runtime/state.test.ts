import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore, type ContainerRecord } from './state.js';

const root = mkdtempSync(join(tmpdir(), 'moat-state-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

function record(id: string, pid: number): ContainerRecord {
  return { id, bundle: '/b', rootfs: '/b/rootfs', pid, pidStart: '1', created: '2026-11-26T00:00:00Z', owner: 'root', annotations: {}, namespaces: ['pid'], spec: { ociVersion: '1.2.0' } };
}

/** A pid that no process has (a child that has been reaped). */
function deadPid(): number {
  const r = spawnSync('true');
  assert.ok(r.pid);
  return r.pid;
}

test('write: each record replaces the last; no temporary file stays', () => {
  const store = new StateStore(root);
  store.reserve('w1');
  store.write(record('w1', 0), false);
  store.write(record('w1', 7));
  store.write(record('w1', 8));
  assert.equal(store.read('w1').pid, 8);
  assert.deepEqual(readdirSync(store.dir('w1')).sort(), ['state.bin', 'state.json']);
  assert.deepEqual(store.ids(), ['w1']);
  store.remove('w1');
});

// a writer killed between its unlink of state.json and its rename leaves the new record whole
// in `.state.json.PID` and no state.json: the record is that file
test('read: with no state.json, a dead writer\'s complete temporary file is the record', () => {
  const store = new StateStore(root);
  store.reserve('w2');
  const dir = store.dir('w2');
  const older = join(dir, `.state.json.${deadPid()}`), newer = join(dir, `.state.json.${deadPid()}`);
  writeFileSync(older, JSON.stringify(record('w2', 1)));
  utimesSync(older, new Date(1e12), new Date(1e12));
  writeFileSync(newer, JSON.stringify(record('w2', 2)));
  // a third writer died while still writing its file (state.json then existed; it is older)
  writeFileSync(join(dir, `.state.json.${deadPid()}`), JSON.stringify(record('w2', 3)).slice(0, 40));
  assert.deepEqual(store.ids(), ['w2'], 'listed while only a temporary file holds its record');
  assert.equal(store.read('w2').pid, 2, 'the newest whole record');
  assert.ok(existsSync(join(dir, 'state.json')), 'and it is moved into place');
  assert.equal(existsSync(newer), false);
  store.remove('w2');
  assert.equal(existsSync(dir), false, 'remove takes the leftover temporary files too');
});

test('read: a temporary file cut short, and nothing else, is no record', () => {
  const store = new StateStore(root);
  store.reserve('w3');
  writeFileSync(join(store.dir('w3'), `.state.json.${deadPid()}`), '{"id":"w3","pi');
  assert.throws(() => store.read('w3'), { code: 'ERR_NOT_FOUND' });
  assert.throws(() => new StateStore(root).read('nothere'), { code: 'ERR_NOT_FOUND' });
  store.remove('w3');
});

// a live writer between unlink and rename: read waits for it (here it never renames, as if
// stopped there, so read takes its file after waiting), and the writer's own rename then
// finds its file gone and state.json in place, which is not an error
test('read: a live writer\'s pending record is waited for, then taken; the writer goes on', () => {
  const store = new StateStore(root);
  store.reserve('w4');
  writeFileSync(join(store.dir('w4'), `.state.json.${process.pid}`), JSON.stringify(record('w4', 4)));
  assert.equal(store.read('w4').pid, 4);
  store.write(record('w4', 5));
  assert.equal(store.read('w4').pid, 5);
  store.remove('w4');
});

// runContainer's delete renames the dir aside and removes it off its path: the id is free at
// once, nothing stays once the removal ran, and what a killed process left aside is removed by
// the next reserve in that root (never another live process's)
test('remove with defer: the id is free at once; the dir goes; a dead process\'s leftovers are swept', async () => {
  const r = join(root, 'defer');
  const store = new StateStore(r);
  store.reserve('d1');
  store.write(record('d1', 9));
  store.remove('d1', true);
  assert.equal(existsSync(store.dir('d1')), false, 'the id is free at once');
  store.reserve('d1');
  store.remove('d1');
  const end = Date.now() + 5000;
  while (readdirSync(r).length && Date.now() < end) await new Promise((res) => setTimeout(res, 5));
  assert.deepEqual(readdirSync(r), [], 'the dir renamed aside is gone');
  // left aside by a process killed before its removal ran, and one of a live process
  const dead = join(r, `.gone-${deadPid()}-0123456789ab`), live = join(r, `.gone-${process.ppid}-0123456789ab`);
  for (const d of [dead, live]) mkdirSync(d);
  writeFileSync(join(dead, 'exit-status'), '0');
  new StateStore(r).reserve('d2');
  assert.equal(existsSync(dead), true, 'swept once per root and process: this process swept this root already');
  const { execFileSync } = await import('node:child_process');
  // a fresh process reserving in this root sweeps it
  execFileSync(process.execPath, ['--input-type=module', '-e', `const { StateStore } = await import(${JSON.stringify(new URL('./state.js', import.meta.url).href)}); new StateStore(${JSON.stringify(r)}).reserve('d3');`]);
  assert.equal(existsSync(dead), false, 'a dead process\'s dir is removed');
  assert.equal(existsSync(live), true, 'a live process\'s is not');
  rmSync(live, { recursive: true });
});
