// The Dockerfile cannot be built on the development machine (no container engine) and hadolint is not to be had
// here (not in Debian, the npm registry or the Go module proxy), so this test checks what matters of it, with the
// hadolint rule ids where one applies: multi-stage, a pinned Node 24 base, production dependencies only, a
// non-root user that matches the CronJob's runAsUser, `demo` as the exec-form entrypoint, and sources that exist.
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {IMAGE_UID} from '../../src/core/gc-install-manifests.js'
import {REPO_ROOT} from '../support/cli.js'

interface Instruction {
  op: string
  args: string
  stage: number
}

/** The Dockerfile's instructions (continuation lines joined, comments dropped), each with the index of its stage. */
function instructions(): Instruction[] {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').replaceAll(/\\\n/g, ' ')
  let stage = -1
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/)
      if (op.toUpperCase() === 'FROM') stage++
      return {op: op.toUpperCase(), args: rest.join(' '), stage}
    })
}

const all = instructions()
const froms = all.filter((i) => i.op === 'FROM')
const last = froms.length - 1
const final = all.filter((i) => i.stage === last)
const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? ''

describe('Dockerfile', () => {
  it('is multi-stage: a build stage, a production-dependencies stage and the image', () => {
    assert.ok(froms.length >= 3, `${froms.length} stages`)
    for (const from of froms.slice(0, -1)) assert.match(from.args, / AS [a-z-]+$/, 'every intermediate stage is named')
  })

  it('bases every stage on Node 24 slim, with an explicit tag that is not latest (DL3006, DL3007)', () => {
    assert.match(nodeImage, /^node:24(\.\d+)*-slim$|^gcr\.io\/distroless\/nodejs24/)
    for (const from of froms) assert.match(from.args, /^\$\{NODE_IMAGE\}( AS [a-z-]+)?$/)
  })

  it('copies into the image only node_modules installed with --omit=dev', () => {
    const copies = final.filter((i) => i.op === 'COPY' && /node_modules/.test(i.args))
    assert.equal(copies.length, 1)
    const stageName = /--from=(\S+)/.exec(copies[0]?.args ?? '')?.[1]
    const source = froms.findIndex((f) => f.args.endsWith(` AS ${stageName}`))
    assert.ok(source >= 0, `stage ${stageName} exists`)
    assert.ok(
      all.some((i) => i.stage === source && i.op === 'RUN' && /npm ci .*--omit=dev/.test(i.args)),
      'that stage installs production dependencies only',
    )
  })

  it(`runs as the non-root user "node" (uid ${IMAGE_UID}, the CronJob's runAsUser) (DL3002)`, () => {
    const users = final.filter((i) => i.op === 'USER')
    assert.equal(users.at(-1)?.args, 'node')
    assert.equal(IMAGE_UID, 1000, 'the node user of the official Node images has uid 1000')
  })

  it('has `demo` (bin/run.js) as its exec-form entrypoint (DL3025)', () => {
    const entrypoint = final.filter((i) => i.op === 'ENTRYPOINT').at(-1)
    assert.deepEqual(JSON.parse(entrypoint?.args ?? 'null'), ['node', '/app/bin/run.js'])
  })

  it('uses COPY rather than ADD (DL3020), absolute WORKDIRs (DL3000) and no cd in RUN (DL3003)', () => {
    assert.ok(!all.some((i) => i.op === 'ADD'))
    for (const workdir of all.filter((i) => i.op === 'WORKDIR')) assert.match(workdir.args, /^\//)
    assert.ok(!all.some((i) => i.op === 'RUN' && /(^|&&\s*|;\s*)cd\s/.test(i.args)))
  })

  it('copies only paths that exist in the repository and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
    for (const copy of all.filter((i) => i.op === 'COPY' && !i.args.includes('--from'))) {
      for (const source of copy.args.split(/\s+/).slice(0, -1)) {
        assert.ok(existsSync(join(REPO_ROOT, source)), `${source} exists`)
        assert.ok(!ignored.includes(source), `${source} is not in .dockerignore`)
      }
    }
    for (const never of ['node_modules', '.git', 'dist']) assert.ok(ignored.includes(never), `.dockerignore lists ${never}`)
  })
})
