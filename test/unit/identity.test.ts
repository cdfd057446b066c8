import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {ciActor, gatherIdentityFacts} from '../../src/adapters/identity.js'
import {mayManage, resolveIdentity} from '../../src/core/identity.js'
import {tempDir as makeTempDir} from '../support/databases.js'

function tempDir(): string {
  return makeTempDir('demo-identity-')
}

function githubEventFile(event: unknown): string {
  const path = join(tempDir(), 'event.json')
  writeFileSync(path, JSON.stringify(event))
  return path
}

describe('resolveIdentity', () => {
  const all = {
    explicit: 'flag@example.com',
    envUser: 'env@example.com',
    ciActor: {ci: 'github', actor: 'octocat'},
    gitEmail: 'git@example.com',
    osUser: 'osuser',
  }

  it('prefers the explicit flag over everything else', () => {
    assert.deepEqual(resolveIdentity(all), {name: 'flag@example.com', source: 'flag'})
  })

  it('takes DEMO_USER when there is no flag', () => {
    assert.deepEqual(resolveIdentity({...all, explicit: undefined}), {name: 'env@example.com', source: 'env'})
  })

  it('takes the CI actor, prefixed with the CI name, when neither flag nor env is set', () => {
    assert.deepEqual(resolveIdentity({...all, explicit: undefined, envUser: undefined}), {name: 'github:octocat', source: 'ci'})
  })

  it('takes the git email outside CI', () => {
    assert.deepEqual(resolveIdentity({gitEmail: 'git@example.com', osUser: 'osuser'}), {name: 'git@example.com', source: 'git'})
  })

  it('falls back to the OS user, then to "unknown"', () => {
    assert.deepEqual(resolveIdentity({osUser: 'osuser'}), {name: 'osuser', source: 'os'})
    assert.deepEqual(resolveIdentity({}), {name: 'unknown', source: 'os'})
  })

  it('ignores blank values and trims the one it picks', () => {
    assert.deepEqual(resolveIdentity({explicit: '  ', envUser: '', ciActor: {ci: 'gitlab', actor: ' '}, gitEmail: ' git@example.com\n'}), {
      name: 'git@example.com',
      source: 'git',
    })
  })
})

describe('mayManage', () => {
  const demo = {createdBy: 'alice@example.com'}

  it('lets the owner manage the demo', () => {
    assert.equal(mayManage('alice@example.com', demo, []), true)
  })

  it("lets an admin manage anyone's demo", () => {
    assert.equal(mayManage('root@example.com', demo, ['root@example.com']), true)
  })

  it('refuses anyone else, including near-misses in case', () => {
    assert.equal(mayManage('bob@example.com', demo, ['root@example.com']), false)
    assert.equal(mayManage('Alice@example.com', demo, []), false)
  })
})

describe('ciActor', () => {
  it('returns nothing outside CI', () => {
    assert.equal(ciActor({GITHUB_ACTOR: 'octocat'}), undefined)
    assert.equal(ciActor({}), undefined)
  })

  it('on GitHub Actions, names the pull request author from the event file, not the bot that triggered the run', () => {
    const eventPath = githubEventFile({pull_request: {user: {login: 'pr-author'}}, sender: {login: 'dependabot[bot]'}})
    const env = {GITHUB_ACTIONS: 'true', GITHUB_EVENT_PATH: eventPath, GITHUB_ACTOR: 'dependabot[bot]', GITHUB_TRIGGERING_ACTOR: 'renovate[bot]'}
    assert.deepEqual(ciActor(env), {ci: 'github', actor: 'pr-author'})
  })

  it('on GitHub Actions without a pull request, takes the triggering actor, then the actor', () => {
    const eventPath = githubEventFile({ref: 'refs/heads/main'})
    assert.deepEqual(ciActor({GITHUB_ACTIONS: 'true', GITHUB_EVENT_PATH: eventPath, GITHUB_TRIGGERING_ACTOR: 'rerunner', GITHUB_ACTOR: 'pusher'}), {
      ci: 'github',
      actor: 'rerunner',
    })
    assert.deepEqual(ciActor({GITHUB_ACTIONS: 'true', GITHUB_EVENT_PATH: eventPath, GITHUB_ACTOR: 'pusher'}), {ci: 'github', actor: 'pusher'})
  })

  it('on GitHub Actions, survives a missing or unreadable event file', () => {
    const broken = join(tempDir(), 'broken.json')
    writeFileSync(broken, '{not json')
    assert.deepEqual(ciActor({GITHUB_ACTIONS: 'true', GITHUB_EVENT_PATH: broken, GITHUB_ACTOR: 'pusher'}), {ci: 'github', actor: 'pusher'})
    assert.deepEqual(ciActor({GITHUB_ACTIONS: 'true', GITHUB_EVENT_PATH: '/nonexistent/event.json', GITHUB_ACTOR: 'pusher'}), {
      ci: 'github',
      actor: 'pusher',
    })
  })

  it('on GitLab, prefers the merge request author, then the user email, then the login', () => {
    assert.deepEqual(ciActor({GITLAB_CI: 'true', CI_MERGE_REQUEST_AUTHOR: 'mr-author', GITLAB_USER_EMAIL: 'u@example.com', GITLAB_USER_LOGIN: 'u'}), {
      ci: 'gitlab',
      actor: 'mr-author',
    })
    assert.deepEqual(ciActor({GITLAB_CI: 'true', GITLAB_USER_EMAIL: 'u@example.com', GITLAB_USER_LOGIN: 'u'}), {ci: 'gitlab', actor: 'u@example.com'})
    assert.deepEqual(ciActor({GITLAB_CI: 'true', GITLAB_USER_LOGIN: 'u'}), {ci: 'gitlab', actor: 'u'})
  })

  it('on Buildkite, takes the build creator, then the commit author', () => {
    assert.deepEqual(
      ciActor({BUILDKITE: 'true', BUILDKITE_BUILD_CREATOR_EMAIL: 'creator@example.com', BUILDKITE_BUILD_AUTHOR_EMAIL: 'author@example.com'}),
      {
        ci: 'buildkite',
        actor: 'creator@example.com',
      },
    )
    assert.deepEqual(ciActor({BUILDKITE: 'true', BUILDKITE_BUILD_AUTHOR_EMAIL: 'author@example.com'}), {ci: 'buildkite', actor: 'author@example.com'})
  })

  it('on CircleCI, takes the user who triggered the pipeline', () => {
    assert.deepEqual(ciActor({CIRCLECI: 'true', CIRCLE_USERNAME: 'circle-user'}), {ci: 'circleci', actor: 'circle-user'})
  })

  it('returns nothing when the CI exposes no actor', () => {
    assert.equal(ciActor({CIRCLECI: 'true'}), undefined)
    assert.equal(ciActor({GITHUB_ACTIONS: 'true'}), undefined)
  })
})

describe('gatherIdentityFacts', () => {
  it('reads the flag, DEMO_USER and the CI actor, and does not ask git when one of them is known', () => {
    const facts = gatherIdentityFacts({
      explicit: 'flag@example.com',
      env: {DEMO_USER: 'env@example.com', CIRCLECI: 'true', CIRCLE_USERNAME: 'c'},
      cwd: tempDir(),
    })
    assert.deepEqual(facts, {explicit: 'flag@example.com', envUser: 'env@example.com', ciActor: {ci: 'circleci', actor: 'c'}})
    assert.equal(resolveIdentity(facts).name, 'flag@example.com')
  })

  it('resolves to the CI actor in CI when no flag or env is given, before git', () => {
    const facts = gatherIdentityFacts({env: {CIRCLECI: 'true', CIRCLE_USERNAME: 'c'}, cwd: tempDir()})
    assert.equal(facts.gitEmail, undefined)
    assert.deepEqual(resolveIdentity(facts), {name: 'circleci:c', source: 'ci'})
  })

  it("outside CI, asks git for the user email of the working directory's repository", () => {
    const repo = tempDir()
    execFileSync('git', ['init', '-q'], {cwd: repo})
    execFileSync('git', ['config', 'user.email', 'repo-user@example.com'], {cwd: repo})
    const facts = gatherIdentityFacts({env: {}, cwd: repo})
    assert.equal(facts.gitEmail, 'repo-user@example.com')
    assert.equal(typeof facts.osUser, 'string')
    assert.deepEqual(resolveIdentity(facts), {name: 'repo-user@example.com', source: 'git'})
  })
})
