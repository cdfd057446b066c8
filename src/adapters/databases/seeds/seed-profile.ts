import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {load} from 'js-yaml'
import {z} from 'zod'
import {ConfigError} from '../../../core/errors.js'

const count = z.number().int().min(0).max(100_000)

export const PERSONA_ROLES = ['admin', 'recruiter', 'hiring_manager', 'candidate'] as const
export type PersonaRole = (typeof PERSONA_ROLES)[number]

/** A demo login: a user of the app's users table whose password is generated per demo. */
export interface Persona {
  role: PersonaRole
  email: string
}

/** A generated seed: how many of each row, and the fixed names the story needs (seeds/<name>.yaml). */
export const seedProfileSchema = z.strictObject({
  /** The recruiting agency itself (company 1, not a client), or null for a company hiring for itself. */
  agency: z.string().min(1).nullable(),
  /** Client companies with these names come first; faker names the rest up to clientCount. */
  clients: z.array(z.string().min(1)).default([]),
  clientCount: count.min(1),
  businessUnitsPerClient: count.max(50),
  admins: count,
  recruiters: count.min(1),
  hiringManagers: count.min(1),
  jobs: count.min(1),
  candidates: count.min(1),
  applications: count,
  personas: z.array(z.strictObject({role: z.enum(PERSONA_ROLES), email: z.email()})).default([]),
})

export type SeedProfile = z.infer<typeof seedProfileSchema>

/** Reads seeds/<name>.yaml; ConfigError naming the file when it is missing or malformed. */
export function readSeedProfile(seedsDir: string, name: string): SeedProfile {
  const file = join(seedsDir, `${name}.yaml`)
  if (!existsSync(file)) {
    throw new ConfigError(`Seed "${name}" does not exist: no ${file}.`, {
      hint: 'Name a seed of seeds/ (recruiting-agency, enterprise, startup) in types.<type>.seed, or give seedFile or seedCommand instead.',
    })
  }
  const parsed = seedProfileSchema.safeParse(load(readFileSync(file, 'utf8')))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(`${file}: "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'}`, {hint: `Fix ${file}.`})
  }
  return parsed.data
}
