import type {Demo} from '../../src/core/demo.js'
import type {Clock, DemoEvent, NewDemo} from '../../src/core/ports.js'

let demoCount = 0

/**
 * The next demo id of this process: t0000001, t0000002 ... (valid ids of the real length), the same on
 * every run, so a failing test names the same rows each time. Unique within a process; every test file runs
 * in a process and against a store of its own.
 */
export function aDemoId(): string {
  demoCount += 1
  return `t${String(demoCount).padStart(7, '0')}`
}

/** A new demo row with sensible defaults; override what the test is about. */
export function aNewDemo(overrides: Partial<NewDemo> = {}): NewDemo {
  const id = overrides.id ?? aDemoId()
  const createdAt = overrides.createdAt ?? new Date('2026-11-25T12:00:00Z')
  return {
    id,
    name: null,
    namespace: `demo-${id}`,
    demoType: 'recruiting-agency',
    status: 'creating',
    portalUrl: `https://portal-${id}.demo.localhost`,
    candidateUrl: `https://candidate-${id}.demo.localhost`,
    databaseMode: 'none',
    databaseSchema: null,
    supabaseProjectId: null,
    supabaseUrl: null,
    supabaseAnonKey: null,
    kubeContext: 'test',
    createdBy: 'alice@example.com',
    autoCleanup: true,
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 2 * 3_600_000),
    metadata: {},
    ...overrides,
  }
}

export function aCreatedEvent(demo: Pick<Demo, 'id' | 'createdBy' | 'createdAt'>): DemoEvent {
  return {demoId: demo.id, type: 'created', at: demo.createdAt, actor: demo.createdBy, data: {}}
}

export function fixedClock(iso: string): Clock & {set(iso: string): void; advance(ms: number): void} {
  let now = new Date(iso)
  return {
    now: () => new Date(now),
    set: (next) => {
      now = new Date(next)
    },
    advance: (ms) => {
      now = new Date(now.getTime() + ms)
    },
  }
}

export const BIG_CAPS = {perOwner: 1000, global: 100_000}
