import {Errors} from '@oclif/core'
import {BaseCommand} from '../base-command.js'
import {diagnose, type CheckResult} from '../core/doctor.js'
import {clusterFlags} from '../flags.js'

export interface DoctorReport {
  ok: boolean
  checks: CheckResult[]
}

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary =
    'Check that demo can work here: Node, config, state store, shared database (mode shared-schema), cluster, permissions, ingress class.'
  static override description =
    'One line per check with the fix when it fails; exit 1 when any check fails. Read-only (opening the state store migrates it, as every command does). Permissions are asked with SelfSubjectAccessReviews for the current identity. With database.mode shared-schema it connects to the shared database and checks the privileges of its role (CREATEROLE, CREATE on the database) and that no role may create objects in schema public; the fix of a failing check is the exact statement to run.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --context staging --json']
  static override flags = {...clusterFlags}

  async run(): Promise<DoctorReport> {
    const {deps} = this
    const checks = await diagnose({
      nodeVersion: process.versions.node,
      config: async () => {
        const config = await deps.config()
        return {configPath: config.configPath, ingressClass: config.project.ingress.className, databaseMode: config.project.database.mode}
      },
      sharedDatabase: () => deps.sharedDatabasePrivileges(),
      store: () => deps.store(),
      cluster: () => deps.clusterAccess(),
    })
    const report = {ok: checks.every((c) => c.ok), checks}
    const width = Math.max(...checks.map((c) => c.name.length))
    for (const check of checks) {
      this.log(
        `${check.ok ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(width)}  ${check.detail}${check.fix ? `\n${' '.repeat(width + 8)}fix: ${check.fix}` : ''}`,
      )
    }
    if (report.ok) return report
    if (this.jsonEnabled()) this.logJson(report)
    this.note(`${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed.`)
    return this.exit(1)
  }

  /** A failed check ends with exit 1 after the report, which is not an error to render again. */
  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    return super.catch(error)
  }
}
