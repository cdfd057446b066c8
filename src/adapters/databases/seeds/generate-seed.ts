import {en, Faker} from '@faker-js/faker'
import type {SeedProfile} from './seed-profile.js'

export type SeedValue = string | number | boolean | null

/** Rows of one table of the app, in insert order; values are plain (timestamps as ISO text) so two runs compare byte for byte. */
export interface SeedTable {
  name: string
  columns: string[]
  rows: SeedValue[][]
}

const STAGES = [
  ['applied', 35],
  ['screening', 25],
  ['interview', 18],
  ['offer', 7],
  ['hired', 5],
  ['rejected', 10],
] as const

const JOB_STATUSES = [
  ['open', 70],
  ['on_hold', 10],
  ['filled', 10],
  ['draft', 5],
  ['closed', 5],
] as const

const MINUTES_PER_DAY = 24 * 60

/**
 * The day every generated date is relative to: midnight UTC of the demo's creation. Dates never look stale, and
 * two demos of the same type and seed value created the same day get byte-identical rows (a reset reuses it).
 */
export function seedAnchor(createdAt: Date): Date {
  return new Date(Date.UTC(createdAt.getUTCFullYear(), createdAt.getUTCMonth(), createdAt.getUTCDate()))
}

interface Context {
  faker: Faker
  anchor: Date
}

function daysAgo(ctx: Context, minDays: number, maxDays: number): string {
  const minutes = ctx.faker.number.int({min: minDays * MINUTES_PER_DAY, max: maxDays * MINUTES_PER_DAY})
  return new Date(ctx.anchor.getTime() - minutes * 60_000).toISOString()
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replaceAll(/[^a-z0-9]+/g, '-')
    .replaceAll(/^-|-$/g, '')
}

function companiesOf(ctx: Context, profile: SeedProfile): SeedTable {
  const names = profile.agency === null ? [] : [profile.agency]
  names.push(...profile.clients.slice(0, profile.clientCount))
  const wanted = profile.clientCount + (profile.agency === null ? 0 : 1)
  while (names.length < wanted) {
    const name = ctx.faker.company.name()
    if (!names.includes(name)) names.push(name)
  }
  const rows = names.map((name, i) => {
    const isClient = profile.agency === null || i > 0
    return [i + 1, name, ctx.faker.commerce.department(), `https://${slug(name)}.example.com`, isClient, daysAgo(ctx, 200, 900)]
  })
  return {name: 'companies', columns: ['id', 'name', 'industry', 'website', 'is_client', 'created_at'], rows}
}

function clientIds(companies: SeedTable, profile: SeedProfile): number[] {
  return companies.rows.filter((_row, i) => profile.agency === null || i > 0).map((row) => row[0] as number)
}

function businessUnitsOf(ctx: Context, profile: SeedProfile, clients: number[]): SeedTable {
  const rows: SeedValue[][] = []
  for (const companyId of clients) {
    const names = new Set<string>()
    while (names.size < profile.businessUnitsPerClient) names.add(ctx.faker.commerce.department())
    for (const name of names) rows.push([rows.length + 1, companyId, name])
  }
  return {name: 'business_units', columns: ['id', 'company_id', 'name'], rows}
}

/** Staff users: admins and recruiters of the agency (or the company), hiring managers of the clients. */
function usersOf(ctx: Context, profile: SeedProfile, clients: number[]): SeedTable {
  const staffCompany = profile.agency === null ? (clients[0] ?? null) : 1
  const plan: [string, number, () => number | null][] = [
    ['admin', profile.admins, () => staffCompany],
    ['recruiter', profile.recruiters, () => staffCompany],
    ['hiring_manager', profile.hiringManagers, () => ctx.faker.helpers.arrayElement(clients)],
  ]
  const rows: SeedValue[][] = []
  for (const [role, howMany, companyOf] of plan) {
    for (let i = 0; i < howMany; i++) rows.push(userRow(ctx, rows.length + 1, role, companyOf()))
  }
  return {name: 'users', columns: ['id', 'company_id', 'email', 'full_name', 'role', 'password_hash', 'created_at'], rows}
}

function userRow(ctx: Context, id: number, role: string, companyId: number | null): SeedValue[] {
  const first = ctx.faker.person.firstName()
  const last = ctx.faker.person.lastName()
  const email = `${slug(first)}.${slug(last)}.${id}@${role === 'candidate' ? 'mail' : 'staff'}.example.com`
  return [id, companyId, email, `${first} ${last}`, role, null, daysAgo(ctx, 100, 400)]
}

function idsWithRole(users: SeedTable, role: string): number[] {
  return users.rows.filter((row) => row[4] === role).map((row) => row[0] as number)
}

function jobsOf(ctx: Context, profile: SeedProfile, refs: {clients: number[]; units: SeedTable; managers: number[]}): SeedTable {
  const rows: SeedValue[][] = []
  for (let id = 1; id <= profile.jobs; id++) {
    const companyId = ctx.faker.helpers.arrayElement(refs.clients)
    const units = refs.units.rows.filter((row) => row[1] === companyId).map((row) => row[0] as number)
    const unitId = units.length > 0 ? ctx.faker.helpers.arrayElement(units) : null
    const salaryMin = ctx.faker.number.int({min: 45, max: 160}) * 1000
    const status = ctx.faker.helpers.weightedArrayElement(JOB_STATUSES.map(([value, weight]) => ({value, weight})))
    const location = ctx.faker.helpers.arrayElement(['Remote', `${ctx.faker.location.city()}, ${ctx.faker.location.state({abbreviated: true})}`])
    const managerId = ctx.faker.helpers.arrayElement(refs.managers)
    rows.push([id, companyId, unitId, managerId, ctx.faker.person.jobTitle(), location, salaryMin, salaryMin + 20_000, status, daysAgo(ctx, 1, 90)])
  }
  const columns = [
    'id',
    'company_id',
    'business_unit_id',
    'hiring_manager_id',
    'title',
    'location',
    'salary_min',
    'salary_max',
    'status',
    'opened_at',
  ]
  return {name: 'jobs', columns, rows}
}

function candidatesOf(ctx: Context, profile: SeedProfile): SeedTable {
  const rows: SeedValue[][] = []
  for (let id = 1; id <= profile.candidates; id++) {
    const first = ctx.faker.person.firstName()
    const last = ctx.faker.person.lastName()
    const email = `${slug(first)}.${slug(last)}.${id}@${ctx.faker.helpers.arrayElement(['gmail', 'outlook', 'proton', 'yahoo'])}.example.com`
    const phone = ctx.faker.phone.number({style: 'international'})
    const years = ctx.faker.number.int({min: 0, max: 25})
    rows.push([id, null, `${first} ${last}`, email, phone, ctx.faker.person.jobTitle(), ctx.faker.location.city(), years, daysAgo(ctx, 1, 180)])
  }
  const columns = ['id', 'user_id', 'full_name', 'email', 'phone', 'headline', 'city', 'years_experience', 'created_at']
  return {name: 'candidates', columns, rows}
}

function applicationsOf(ctx: Context, profile: SeedProfile): SeedTable {
  const wanted = Math.min(profile.applications, profile.jobs * profile.candidates)
  const seen = new Set<string>()
  const rows: SeedValue[][] = []
  const stages = STAGES.map(([value, weight]) => ({value, weight}))
  while (rows.length < wanted) {
    const jobId = ctx.faker.number.int({min: 1, max: profile.jobs})
    const candidateId = ctx.faker.number.int({min: 1, max: profile.candidates})
    if (seen.has(`${jobId}:${candidateId}`)) continue
    seen.add(`${jobId}:${candidateId}`)
    const appliedAt = daysAgo(ctx, 2, 60)
    const updatedAt = new Date(Date.parse(appliedAt) + ctx.faker.number.int({min: 0, max: 2 * MINUTES_PER_DAY}) * 60_000).toISOString()
    rows.push([rows.length + 1, jobId, candidateId, ctx.faker.helpers.weightedArrayElement(stages), appliedAt, updatedAt])
  }
  return {name: 'applications', columns: ['id', 'job_id', 'candidate_id', 'stage', 'applied_at', 'updated_at'], rows}
}

function assignmentsOf(ctx: Context, jobs: SeedTable, recruiters: number[]): SeedTable {
  const rows: SeedValue[][] = []
  for (const job of jobs.rows) {
    const howMany = Math.min(recruiters.length, ctx.faker.number.int({min: 1, max: 2}))
    for (const recruiterId of ctx.faker.helpers.arrayElements(recruiters, howMany).sort((a, b) => a - b)) {
      rows.push([recruiterId, job[0] ?? null, daysAgo(ctx, 0, 30)])
    }
  }
  return {name: 'recruiter_assignments', columns: ['recruiter_id', 'job_id', 'assigned_at'], rows}
}

/** The personas as users at the end of the users table (passwords are set per demo, never generated here). */
function addPersonas(ctx: Context, profile: SeedProfile, users: SeedTable, clients: number[]): void {
  for (const persona of profile.personas) {
    const companyId =
      persona.role === 'candidate'
        ? null
        : persona.role === 'hiring_manager'
          ? (clients[0] ?? null)
          : profile.agency === null
            ? (clients[0] ?? null)
            : 1
    const name = `${ctx.faker.person.firstName()} ${ctx.faker.person.lastName()}`
    users.rows.push([users.rows.length + 1, companyId, persona.email, name, persona.role, null, daysAgo(ctx, 30, 60)])
  }
}

/**
 * Every row of a generated seed, in insert order: a pure function of the profile, the seed value and the anchor
 * day, so the same three give byte-identical rows (faker is seeded with the seed value).
 */
export function generateSeed(profile: SeedProfile, seedValue: number, anchor: Date): SeedTable[] {
  const faker = new Faker({locale: [en]})
  faker.seed(seedValue)
  faker.setDefaultRefDate(anchor)
  const ctx: Context = {faker, anchor}
  const companies = companiesOf(ctx, profile)
  const clients = clientIds(companies, profile)
  const units = businessUnitsOf(ctx, profile, clients)
  const users = usersOf(ctx, profile, clients)
  addPersonas(ctx, profile, users, clients)
  const jobs = jobsOf(ctx, profile, {clients, units, managers: idsWithRole(users, 'hiring_manager')})
  const candidates = candidatesOf(ctx, profile)
  const applications = applicationsOf(ctx, profile)
  const assignments = assignmentsOf(ctx, jobs, idsWithRole(users, 'recruiter'))
  return [companies, units, users, jobs, candidates, applications, assignments]
}
