import type {Demo} from '../../src/core/demo.js'
import type {Clock, DemoEvent, NewDemo} from '../../src/core/ports.js'
import {DEFAULT_SERVICES} from '../../src/core/project-config.js'

let counter = 0

/** A new demo row with sensible defaults; override what the test is about. */
export function aNewDemo(overrides: Partial<NewDemo> = {}): NewDemo {
  counter += 1
  const id = overrides.id ?? `t${String(counter).padStart(5, '0')}${Math.random().toString(36).slice(2, 6)}`
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

/**
 * A `services:` value for a project config that runs only these services: every built-in service not named
 * is disabled (user services merge over the built-in ones by name).
 */
export function onlyServices(services: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const disabled = Object.fromEntries(Object.keys(DEFAULT_SERVICES).map((name) => [name, {enabled: false}]))
  return {...disabled, ...services}
}
