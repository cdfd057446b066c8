/** What the adapter gathered about who runs the CLI; resolveIdentity decides which one counts. */
export interface IdentityFacts {
  /** --owner flag. */
  explicit?: string | undefined
  /** DEMO_USER. */
  envUser?: string | undefined
  /** The person behind a CI run (pull request author first, then the actor), with the CI's name. */
  ciActor?: {ci: string; actor: string} | undefined
  gitEmail?: string | undefined
  osUser?: string | undefined
}

export interface Identity {
  name: string
  source: 'flag' | 'env' | 'ci' | 'git' | 'os'
}

/** created_by: an explicit flag or env var, else the CI actor, else the git user email, else the OS user. */
export function resolveIdentity(facts: IdentityFacts): Identity {
  const clean = (v: string | undefined) => (v ?? '').trim()
  if (clean(facts.explicit)) return {name: clean(facts.explicit), source: 'flag'}
  if (clean(facts.envUser)) return {name: clean(facts.envUser), source: 'env'}
  if (facts.ciActor && clean(facts.ciActor.actor)) return {name: `${facts.ciActor.ci}:${clean(facts.ciActor.actor)}`, source: 'ci'}
  if (clean(facts.gitEmail)) return {name: clean(facts.gitEmail), source: 'git'}
  return {name: clean(facts.osUser) || 'unknown', source: 'os'}
}

/** Whether `who` may change `demo`: its owner, or someone on the admins list. */
export function mayManage(who: string, demo: {createdBy: string}, admins: readonly string[]): boolean {
  return who === demo.createdBy || admins.includes(who)
}
