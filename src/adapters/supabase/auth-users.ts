import {createClient, type GoTrueAdminApi, type User} from '@supabase/supabase-js'
import {SupabaseError} from '../../core/errors.js'

/** A demo login that becomes a Supabase Auth user. The password is a secret. */
export interface DemoLogin {
  email: string
  password: string
  role: string
}

/** A project's Auth API as the service role reaches it. The key is a secret: never logged, never on the row. */
export interface AuthTarget {
  url: string
  serviceRoleKey: string
}

/** The metadata key that ties an Auth user to its demo; destroy and gc delete users by it. */
export const DEMO_ID_METADATA = 'demo_id'

const PAGE_SIZE = 100
const TIMEOUT_MS = 30_000

/** Auth users of a demo, through @supabase/supabase-js's admin API. */
export interface AuthUsers {
  /** Creates the logins tagged with the demo id; a login that already exists with the same tag is kept. Idempotent. */
  create(target: AuthTarget, demoId: string, logins: DemoLogin[]): Promise<void>
  /** Deletes every user tagged with the demo id; returns how many. Idempotent. */
  deleteFor(target: AuthTarget, demoId: string): Promise<number>
  /** How many users carry each demo id tag (gc reconciles the tags of demos without a live row). Read-only. */
  tagged(target: AuthTarget): Promise<Map<string, number>>
}

/** The admin API of a project's Auth, each call bounded by a timeout. */
function adminOf(target: AuthTarget): GoTrueAdminApi {
  const supabase = createClient(target.url, target.serviceRoleKey, {
    auth: {persistSession: false, autoRefreshToken: false, detectSessionInUrl: false},
    global: {fetch: (input, init) => fetch(input, {...init, signal: AbortSignal.timeout(TIMEOUT_MS)})},
  })
  return supabase.auth.admin
}

function refused(call: string, error: {status?: number | undefined; code?: string | undefined}): SupabaseError {
  return new SupabaseError(`Supabase Auth ${call} failed (${error.status ?? 'no answer'}${error.code ? `, ${error.code}` : ''}).`)
}

async function allUsers(admin: GoTrueAdminApi): Promise<User[]> {
  const users: User[] = []
  for (let page = 1; ; page += 1) {
    const {data, error} = await admin.listUsers({page, perPage: PAGE_SIZE})
    if (error) throw refused('listUsers', error)
    users.push(...data.users)
    if (data.users.length < PAGE_SIZE) return users
  }
}

function isTagged(user: User, demoId: string): boolean {
  return (user.user_metadata as Record<string, unknown> | undefined)?.[DEMO_ID_METADATA] === demoId
}

export const supabaseAuthUsers: AuthUsers = {
  async create(target, demoId, logins) {
    if (logins.length === 0) return
    const admin = adminOf(target)
    const existing = new Map((await allUsers(admin)).map((u) => [u.email ?? '', u]))
    for (const login of logins) {
      const user = existing.get(login.email)
      if (user && isTagged(user, demoId)) continue
      if (user) throw new SupabaseError(`Supabase Auth user ${login.email} exists and is not demo ${demoId}'s; it is left untouched.`)
      const {error} = await admin.createUser({
        email: login.email,
        password: login.password,
        email_confirm: true,
        user_metadata: {[DEMO_ID_METADATA]: demoId, role: login.role},
      })
      if (error) throw refused(`createUser ${login.email}`, error)
    }
  },

  async deleteFor(target, demoId) {
    const admin = adminOf(target)
    const ours = (await allUsers(admin)).filter((u) => isTagged(u, demoId))
    for (const user of ours) {
      const {error} = await admin.deleteUser(user.id)
      if (error && error.status !== 404) throw refused(`deleteUser ${user.id}`, error)
    }
    return ours.length
  },

  async tagged(target) {
    const counts = new Map<string, number>()
    for (const user of await allUsers(adminOf(target))) {
      const demoId = (user.user_metadata as Record<string, unknown> | undefined)?.[DEMO_ID_METADATA]
      if (typeof demoId === 'string') counts.set(demoId, (counts.get(demoId) ?? 0) + 1)
    }
    return counts
  },
}
