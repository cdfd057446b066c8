// demo gc install / uninstall in process: bad input is exit 2 before any cluster is asked (the World has no
// kubeconfig, so reaching the cluster would fail with another error and exit code); --dry-run needs no cluster.
// Applying to a real API server is test/integration/kubernetes/gc-install.test.ts.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {load} from 'js-yaml'
import GcInstall from '../../../src/commands/gc/install.js'
import GcUninstall from '../../../src/commands/gc/uninstall.js'
import type {Manifest} from '../../../src/core/ports.js'
import {runInProcess, said, World} from '../../support/in-process.js'

describe('demo gc install (in process)', () => {
  const cases: Array<{why: string; args: string[]; message: RegExp}> = [
    {
      why: 'a schedule that is not a cron expression',
      args: ['--database-secret', 's/k', '--schedule', 'hourly'],
      message: /--schedule "hourly" is not a cron schedule/,
    },
    {why: 'a bad health schedule', args: ['--database-secret', 's/k', '--health', '--health-schedule', '* * *'], message: /--health-schedule/},
    {
      why: 'a --database-secret without a key',
      args: ['--database-secret', 'demo-state'],
      message: /--database-secret "demo-state" is not <secret name>\/<key>/,
    },
    {why: 'a bad namespace', args: ['--database-secret', 's/k', '--namespace', 'Demo_System'], message: /--namespace "Demo_System"/},
    {why: 'a missing --database-secret', args: [], message: /database-secret/},
  ]
  for (const c of cases) {
    it(`refuses ${c.why} (exit 2)`, async () => {
      const run = await runInProcess(GcInstall, c.args, new World())
      assert.equal(run.exitCode, 2, said(run))
      // oclif's own parse errors (a missing required flag) are rethrown to oclif's renderer, ours reach stderr.
      assert.match(`${run.stderr}${run.error?.message ?? ''}`, c.message)
    })
  }

  it('--dry-run prints every object as YAML and needs no cluster', async () => {
    const run = await runInProcess(GcInstall, ['--database-secret', 'demo-state/url', '--dry-run', '--image', 'example.com/demo:1'], new World())
    assert.equal(run.exitCode, 0, said(run))
    const docs = run.stdout.split(/^---$/m).map((doc) => load(doc) as Manifest)
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata.name}`),
      [
        'Namespace/demo-system',
        'ValidatingAdmissionPolicy/demo-gc-demo-system',
        'ValidatingAdmissionPolicyBinding/demo-gc-demo-system',
        'ServiceAccount/demo-gc',
        'ClusterRole/demo-gc-demo-system',
        'ClusterRoleBinding/demo-gc-demo-system',
        'CronJob/demo-gc',
      ],
    )
    assert.match(run.stderr, /Dry run: 7 objects for namespace demo-system; nothing was applied/)
  })

  it('defaults --image to the published image of this version', async () => {
    const run = await runInProcess<{manifests: Manifest[]}>(GcInstall, ['--database-secret', 'demo-state/url', '--dry-run', '--json'], new World())
    assert.equal(run.exitCode, 0, said(run))
    assert.match(JSON.stringify(run.result?.manifests.at(-1)), /"image":"ghcr\.io\/splits-network\/demo-cli:\d+\.\d+\.\d+/)
  })
})

describe('demo gc uninstall (in process)', () => {
  it('refuses a bad namespace (exit 2)', async () => {
    const run = await runInProcess(GcUninstall, ['--namespace', 'NOPE'], new World())
    assert.equal(run.exitCode, 2, said(run))
  })
})
