import {Chalk, type ChalkInstance} from 'chalk'

/**
 * Whether (and how richly) to colour what goes to `stream`, decided from the command's own environment and
 * stream rather than chalk's global detection (which reads process.stdout, not the injected one):
 * FORCE_COLOR wins ("0"/"false" off, "1".."3" that level, anything else level 1), then NO_COLOR (any
 * non-empty value: off, https://no-color.org), then TERM=dumb (off), then a terminal (level 1) or not (off).
 */
export function colorLevel(env: NodeJS.ProcessEnv, stream: {isTTY?: boolean}): 0 | 1 | 2 | 3 {
  const force = env.FORCE_COLOR
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0
    if (force === '2' || force === '3') return Number(force) as 2 | 3
    return 1
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0
  if (env.TERM === 'dumb') return 0
  return stream.isTTY ? 1 : 0
}

export function makeChalk(env: NodeJS.ProcessEnv, stream: {isTTY?: boolean}): ChalkInstance {
  return new Chalk({level: colorLevel(env, stream)})
}

const STATUS_COLORS: Record<string, (chalk: ChalkInstance) => (text: string) => string> = {
  ready: (c) => c.green,
  healthy: (c) => c.green,
  creating: (c) => c.cyan,
  destroying: (c) => c.yellow,
  degraded: (c) => c.yellow,
  failed: (c) => c.red,
  unhealthy: (c) => c.red,
  unknown: (c) => c.magenta,
  destroyed: (c) => c.gray,
  skipped: (c) => c.gray,
}

/** A demo status or a health result, coloured by what it means (green good, yellow attention, red bad). */
export function colorStatus(chalk: ChalkInstance, status: string): string {
  const paint = STATUS_COLORS[status]
  return paint ? paint(chalk)(status) : status
}
