// Runs a command in this process, with oclif's own parsing, against fakes of every port and streams of its own:
// flag parsing, --json envelopes, exit codes and messages in milliseconds. What needs a real process
// (signals, kill -9, the built bundle) stays in test/e2e.
import {PassThrough} from 'node:stream'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {dump} from 'js-yaml'
import type {Command} from '@oclif/core'
import {Deps, setDepsFactory, type DepsOptions} from '../../src/deps.js'
import type {DatabaseMode} from '../../src/core/demo.js'
import {UsageError} from '../../src/core/errors.js'
import type {Demo} from '../../src/core/demo.js'
import type {
  Checkpoint,
  Clock,
  Cluster,
  Databases,
  DatabasesFor,
  DemoStore,
  NewDemo,
  Random,
  Sleeper,
  Stats,
  StepRunner,
  UrlProber,
} from '../../src/core/ports.js'
import type {Answer, Prompt} from '../../src/adapters/prompt.js'
import type {Cancellation} from '../../src/signals.js'
import {aCreatedEvent, aNewDemo, BIG_CAPS, fixedClock} from '../fakes/builders.js'
import {FakeCluster} from '../fakes/fake-cluster.js'
import {databasesFor, FakeDatabases} from '../fakes/fake-databases.js'
import {FakeSleeper, RecordingSteps} from '../fakes/fake-time.js'
import {FakeUrlProber} from '../fakes/fake-url-prober.js'
import {MemoryDemoStore} from '../fakes/memory-store.js'
import {MemoryStats} from '../fakes/memory-stats.js'
import {tempDir} from './databases.js'

export const REPO_ROOT = join(import.meta.dirname, '../..')

/** A prompt that answers from a script and remembers the questions. */
export class ScriptedPrompt implements Prompt {
  readonly questions: string[] = []
  constructor(
    readonly interactive: boolean,
    private readonly answer: Answer = 'yes',
  ) {}

  async confirm(question: string): Promise<Answer> {
    this.questions.push(question)
    return this.answer
  }
}

/** The world a command runs in: every port a fake the test can inspect and change. */
export class World {
  readonly store = new MemoryDemoStore()
  readonly stats = new MemoryStats(this.store)
  readonly clock = fixedClock('2026-11-25T12:00:00.000Z')
  readonly sleeper = new FakeSleeper(this.clock)
  readonly steps = new RecordingSteps()
  readonly databases = new FakeDatabases()
  /** What each demo URL answers `demo health` (unknown URLs refuse the connection). */
  readonly prober = new FakeUrlProber()
  /** The adapters of the database modes this "version" handles: only `none`, as in src/deps.ts, unless a test adds one. */
  databasesFor: DatabasesFor = databasesFor(this.databases)
  /** One fake cluster per kubeconfig context; the kubeconfig's current context is "test". */
  readonly clusters = new Map<string, FakeCluster>([['test', new FakeCluster('test').useSleeper(this.sleeper)]])
  readonly checkpoints: string[] = []
  readonly cancel = new AbortController()
  /** Whether a command asked for the state store (bad input is refused before it is opened). */
  storeOpened = false
  prompt: Prompt = new ScriptedPrompt(false)
  random: Random = {bytes: (count) => Uint8Array.from({length: count}, (_, i) => i)}
  /** A sandbox directory: HOME, the preferences and the working directory of the command. */
  readonly dir = tempDir('demo-inproc-')
  env: NodeJS.ProcessEnv = {
    HOME: this.dir,
    DEMO_PREFERENCES_DIR: join(this.dir, 'preferences'),
    DEMO_USER: 'alice@example.com',
    DEMO_CONFIG: join(this.dir, 'demo.config.yaml'),
  }

  constructor(config: Record<string, unknown> = {}) {
    this.writeConfig(config)
  }

  /** Writes the project's demo.config.yaml: an object as YAML, or a text as it is (to test broken files). */
  writeConfig(config: Record<string, unknown> | string): void {
    writeFileSync(join(this.dir, 'demo.config.yaml'), typeof config === 'string' ? config : dump(config))
  }

  /** Stores a demo row (aNewDemo with `overrides`, ready by default) as create would have, and returns it. */
  async aStoredDemo(overrides: Partial<NewDemo> = {}): Promise<Demo> {
    const demo = aNewDemo({status: 'ready', ...overrides})
    const result = await this.store.insert(demo, BIG_CAPS, aCreatedEvent(demo))
    if (!('inserted' in result)) throw new Error(`the memory store refused ${demo.id}`)
    return result.inserted
  }

  get cluster(): FakeCluster {
    return this.clusters.get('test') as FakeCluster
  }

  /** The cluster of a context, refusing an unknown one as the real adapter does (a usage error). */
  clusterFor(context: string | undefined): Cluster {
    const found = this.clusters.get(context ?? 'test')
    if (!found)
      throw new UsageError(`The kubeconfig has no context "${context}".`, {hint: `Known contexts: ${[...this.clusters.keys()].join(', ')}.`})
    return found
  }
}

/** Deps whose every port is the world's fake; config and templates are the real loaders (demo.config.yaml of the test). */
class FakeDeps extends Deps {
  constructor(
    options: DepsOptions,
    private readonly world: World,
  ) {
    super(options)
  }

  override get clock(): Clock {
    return this.world.clock
  }

  override get random(): Random {
    return this.world.random
  }

  override get sleeper(): Sleeper {
    return this.world.sleeper
  }

  override async store(): Promise<DemoStore> {
    this.world.storeOpened = true
    return this.world.store
  }

  override async stats(): Promise<Stats> {
    this.world.storeOpened = true
    return this.world.stats
  }

  override async cluster(options: {defaultContext?: string | null} = {}): Promise<Cluster> {
    return this.world.clusterFor(this.requestedContext(options.defaultContext))
  }

  override async databasesFor(mode: DatabaseMode): Promise<Databases> {
    return this.world.databasesFor(mode)
  }

  override async urlProber(): Promise<UrlProber> {
    return this.world.prober
  }

  override preloadClusterModules(): void {}

  /** The fake store is one object shared in this process: no run lock (the real one is tested in test/e2e/gc.test.ts). */
  override async exclusiveGcRun(): Promise<() => void> {
    return () => {}
  }

  override steps(): StepRunner {
    return this.world.steps
  }

  override prompt(): Prompt {
    return this.world.prompt
  }

  override checkpoint(): Checkpoint {
    return (name) => this.world.checkpoints.push(name)
  }

  override cancellation(): Cancellation {
    return {signal: this.world.cancel.signal, track: () => {}, dispose: () => {}}
  }
}

export interface InProcessResult<T> {
  stdout: string
  stderr: string
  /** The exit code: 0, or the code of the error the command ended with. */
  exitCode: number
  result: T | undefined
  error: (Error & {oclif?: {exit?: number}}) | undefined
}

type CommandClass = typeof Command & {run(argv?: string[], opts?: string): Promise<unknown>}

export interface RunOptions {
  /** Variables for this run only, over the world's (DEMO_USER of someone else); undefined removes one. */
  env?: NodeJS.ProcessEnv
}

/** Runs `command` with `argv` in this process against `world`; stdout and stderr are streams of its own. */
export async function runInProcess<T = unknown>(
  command: CommandClass,
  argv: string[],
  world: World,
  options: RunOptions = {},
): Promise<InProcessResult<T>> {
  const stdout = collect()
  const stderr = collect()
  const env = withoutUndefined({...world.env, ...options.env})
  setDepsFactory(
    (deps) => new FakeDeps({...deps, cwd: world.dir, env, io: {stdout: stdout.stream, stderr: stderr.stream, stdin: new PassThrough()}}, world),
  )
  try {
    const result = (await command.run(argv, REPO_ROOT)) as T
    return {stdout: stdout.text(), stderr: stderr.text(), exitCode: 0, result, error: undefined}
  } catch (error) {
    const failure = error as Error & {oclif?: {exit?: number}}
    return {stdout: stdout.text(), stderr: stderr.text(), exitCode: failure.oclif?.exit ?? 1, result: undefined, error: failure}
  } finally {
    setDepsFactory(undefined)
  }
}

function withoutUndefined(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined))
}

function collect(): {stream: PassThrough; text: () => string} {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  return {stream, text: () => Buffer.concat(chunks).toString('utf8')}
}

/** For assertion messages: everything the command said. */
export function said(run: InProcessResult<unknown>): string {
  return `exit ${run.exitCode}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`
}
