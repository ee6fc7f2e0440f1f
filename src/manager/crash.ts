// Test-only crash points: MOAT_TEST_CRASH_AT=<point> makes the process SIGKILL itself there,
// so tests can prove that a crash at that point leaves a state the next command handles.

/** The named points where a crash is simulated. */
export type CrashPoint = 'network:bridge-added' | 'network:helper-started' | 'create:allocated' | 'create:staged' | 'create:committed' | 'start:created' | 'start:started' | 'delete:stopped' | 'delete:trashed';

/** Kills this process with SIGKILL if MOAT_TEST_CRASH_AT names this point. */
export function crashPoint(point: CrashPoint): void {
  if (process.env.MOAT_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
