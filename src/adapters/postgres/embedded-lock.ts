import {closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {StoreUnavailableError} from '../../core/errors.js'

const LOCK_WAIT_MS = 10_000
const POLL_MS = 100
/** A break file older than this was left by a process killed inside the few synchronous calls that hold it. */
const ABANDONED_BREAK_MS = 5_000
const COMMAND_SHOWN_CHARS = 80
/** A waiter refreshes its wish every poll; one older than this is from a waiter that gave up or died. */
const WANTED_FRESH_MS = 1_000

/** Who holds the embedded store: what its lock file says. */
export interface LockHolder {
  pid: number
  /** What the holder runs, e.g. `demo create --type startup`; null in a lock written by an older demo. */
  command: string | null
  /** When it took the lock; null in a lock written by an older demo. */
  since: Date | null
}

export interface LockOptions {
  /** How long to wait for another process's lock before failing (default 10 s). */
  waitMs?: number
  /** What this process runs, recorded for the processes that wait for it (default: `demo <argv>`). */
  command?: string
  /** Told once, as soon as this process has to wait, who holds the lock. */
  notice?: (message: string) => void
  /** What the messages call the lock (default: the embedded state store's). */
  messages?: LockMessages
}

export interface LockMessages {
  /** `Waiting for <waitingFor>: pid … holds it...` */
  waitingFor: string
  /** `<busy>: pid … (demo gc --json, since 14:02:05); waited 10 s.` */
  busy: string
  hint: string
}

const STORE_MESSAGES: LockMessages = {
  waitingFor: 'the embedded state store',
  busy: 'The embedded state store is in use by another demo process',
  hint: 'Wait for it to finish, or set DEMO_DATABASE_URL to a shared Postgres so several processes can work at once.',
}

/** This process's command line as the user typed it: `demo create --type startup`. */
function thisCommand(): string {
  return ['demo', ...process.argv.slice(2)].join(' ')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Reads the lock file: JSON `{pid, command, since}`, or the bare pid older versions wrote. Null when it is gone. */
export function readHolder(lockPath: string): LockHolder | null {
  let text: string
  try {
    text = readFileSync(lockPath, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  try {
    const parsed = JSON.parse(text) as {pid?: unknown; command?: unknown; since?: unknown}
    if (typeof parsed === 'object' && parsed !== null) {
      return {
        pid: Number(parsed.pid),
        command: typeof parsed.command === 'string' ? parsed.command : null,
        since: typeof parsed.since === 'string' ? new Date(parsed.since) : null,
      }
    }
  } catch {
    // Not JSON: the bare pid of an older demo.
  }
  return {pid: Number.parseInt(text, 10), command: null, since: null}
}

function isStale(holder: LockHolder): boolean {
  return !Number.isInteger(holder.pid) || holder.pid <= 0 || !isAlive(holder.pid)
}

/** `pid 1234 (demo create --type startup, since 14:02:05)`, in local time: the person is at this machine. */
export function describeHolder(holder: LockHolder): string {
  const command =
    holder.command && holder.command.length > COMMAND_SHOWN_CHARS ? `${holder.command.slice(0, COMMAND_SHOWN_CHARS - 1)}…` : holder.command
  const details = [command, holder.since && !Number.isNaN(holder.since.getTime()) ? `since ${holder.since.toTimeString().slice(0, 8)}` : null].filter(
    Boolean,
  )
  return details.length > 0 ? `pid ${holder.pid} (${details.join(', ')})` : `pid ${holder.pid}`
}

/**
 * Creates the lock file with its whole content in one step: written to a private file, then hard-linked to
 * the lock path, which fails with EEXIST when it is taken. (Creating it with O_EXCL and writing afterwards
 * let a reader see an empty file, take it for stale and remove a live lock.)
 */
function tryCreate(lockPath: string, command: string): boolean {
  const mine = `${lockPath}.${process.pid}.tmp`
  writeFileSync(mine, JSON.stringify({pid: process.pid, command, since: new Date().toISOString()}))
  try {
    linkSync(mine, lockPath)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return false
  } finally {
    rmSync(mine, {force: true})
  }
}

/**
 * Removes the lock of a holder that died without releasing it (SIGKILL). Two waiters may both find it stale;
 * the break file lets only one of them look again and remove it, so the later one cannot remove the lock the
 * earlier one has just taken.
 */
function breakStaleLock(lockPath: string): void {
  const breakPath = `${lockPath}.break`
  let fd: number
  try {
    fd = openSync(breakPath, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    removeAbandonedBreak(breakPath)
    return
  }
  try {
    const holder = readHolder(lockPath)
    if (holder && isStale(holder)) rmSync(lockPath, {force: true})
  } finally {
    closeSync(fd)
    rmSync(breakPath, {force: true})
  }
}

function removeAbandonedBreak(breakPath: string): void {
  try {
    if (Date.now() - statSync(breakPath).mtimeMs > ABANDONED_BREAK_MS) rmSync(breakPath, {force: true})
  } catch {
    // Gone already: its owner finished.
  }
}

function wantedPath(lockPath: string): string {
  return `${lockPath}.wanted`
}

/** Tells the holder that a process waits, so it releases the lock as soon as it is idle (see isLockWanted). */
function markWanted(lockPath: string): void {
  writeFileSync(wantedPath(lockPath), String(process.pid))
}

/** Whether another process is waiting for the lock right now (its wish is fresh). */
export function isLockWanted(lockPath: string): boolean {
  try {
    return Date.now() - statSync(wantedPath(lockPath)).mtimeMs < WANTED_FRESH_MS
  } catch {
    return false
  }
}

/** Takes the lock, or returns who holds it. */
function tryLock(lockPath: string, command: string): LockHolder | null {
  for (;;) {
    if (tryCreate(lockPath, command)) return null
    const holder = readHolder(lockPath)
    if (holder === null) continue
    if (!isStale(holder)) return holder
    breakStaleLock(lockPath)
  }
}

/**
 * PGlite takes no lock of its own and two processes on one data directory corrupt it
 * (electric-sql/pglite#1106), so the embedded store is guarded by a lock file naming the holder's pid, command
 * and since when. A second process says at once (through `notice`) whom it waits for, marks the lock wanted
 * (isLockWanted) while it waits, up to `waitMs`, then fails with StoreUnavailableError naming the holder. A
 * lock whose holder is dead is taken over.
 * Returns the release function (idempotent; also run at process exit).
 */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<() => void> {
  const {waitMs = LOCK_WAIT_MS, command = thisCommand(), notice, messages = STORE_MESSAGES} = options
  mkdirSync(dirname(lockPath), {recursive: true})
  const deadline = Date.now() + waitMs
  let holder = tryLock(lockPath, command)
  if (holder) notice?.(`Waiting for ${messages.waitingFor}: ${describeHolder(holder)} holds it...`)
  while (holder !== null) {
    markWanted(lockPath)
    if (Date.now() > deadline) {
      rmSync(wantedPath(lockPath), {force: true})
      throw new StoreUnavailableError(`${messages.busy}: ${describeHolder(holder)}; waited ${waitMs / 1000} s.`, {hint: messages.hint})
    }
    await sleep(POLL_MS)
    holder = tryLock(lockPath, command)
  }
  rmSync(wantedPath(lockPath), {force: true})
  return releaser(lockPath)
}

/** Takes the lock when it is free (or its holder dead) without waiting or marking it wanted; null when another process holds it. */
export function tryAcquireLock(lockPath: string, options: Pick<LockOptions, 'command'> = {}): (() => void) | null {
  mkdirSync(dirname(lockPath), {recursive: true})
  return tryLock(lockPath, options.command ?? thisCommand()) === null ? releaser(lockPath) : null
}

/** The release function of a lock this process holds: idempotent, and run at process exit. */
function releaser(lockPath: string): () => void {
  let released = false
  const release = () => {
    if (released) return
    released = true
    process.off('exit', release)
    rmSync(lockPath, {force: true})
  }
  process.once('exit', release)
  return release
}
