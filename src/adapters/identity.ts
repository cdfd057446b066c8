import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {userInfo} from 'node:os'
import type {IdentityFacts} from '../core/identity.js'

function prAuthorFromGithubEvent(path: string | undefined): string | undefined {
  if (!path) return undefined
  try {
    const event = JSON.parse(readFileSync(path, 'utf8')) as {pull_request?: {user?: {login?: string}}}
    return event.pull_request?.user?.login
  } catch {
    return undefined
  }
}

type CiName = NonNullable<IdentityFacts['ciActor']>['ci']

/** Per CI: how to tell it is running, and where its actor is, most specific first. */
const CI_ACTORS: ReadonlyArray<{ci: CiName; detect: string; actor: (env: NodeJS.ProcessEnv) => string | undefined}> = [
  {
    ci: 'github',
    detect: 'GITHUB_ACTIONS',
    actor: (env) => prAuthorFromGithubEvent(env.GITHUB_EVENT_PATH) ?? env.GITHUB_TRIGGERING_ACTOR ?? env.GITHUB_ACTOR,
  },
  {ci: 'gitlab', detect: 'GITLAB_CI', actor: (env) => env.CI_MERGE_REQUEST_AUTHOR ?? env.GITLAB_USER_EMAIL ?? env.GITLAB_USER_LOGIN},
  {ci: 'buildkite', detect: 'BUILDKITE', actor: (env) => env.BUILDKITE_BUILD_CREATOR_EMAIL ?? env.BUILDKITE_BUILD_AUTHOR_EMAIL},
  {ci: 'circleci', detect: 'CIRCLECI', actor: (env) => env.CIRCLE_USERNAME},
]

/** The person behind a CI run, where the CI exposes it: the pull request's author first, the triggering actor next. */
export function ciActor(env: NodeJS.ProcessEnv): IdentityFacts['ciActor'] {
  const ci = CI_ACTORS.find((candidate) => env[candidate.detect] === 'true')
  const actor = ci?.actor(env)
  return ci && actor ? {ci: ci.ci, actor} : undefined
}

function gitEmail(cwd: string): string | undefined {
  try {
    return execFileSync('git', ['config', 'user.email'], {cwd, encoding: 'utf8', timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch {
    return undefined
  }
}

function osUser(): string | undefined {
  try {
    return userInfo().username
  } catch {
    return undefined
  }
}

/** Gathers identity facts from flags, env, CI metadata, git and the OS, lazily (git only when needed). */
export function gatherIdentityFacts(options: {explicit?: string | undefined; env: NodeJS.ProcessEnv; cwd: string}): IdentityFacts {
  const facts: IdentityFacts = {explicit: options.explicit, envUser: options.env.DEMO_USER, ciActor: ciActor(options.env)}
  if (facts.explicit || facts.envUser || facts.ciActor) return facts
  return {...facts, gitEmail: gitEmail(options.cwd), osUser: osUser()}
}
