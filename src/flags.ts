import {Flags} from '@oclif/core'

/*
 * Flags that more than one command takes, defined once so that a name means the same everywhere
 * (README "Common flags"). Old spellings stay as deprecated aliases: oclif accepts them and warns.
 */

/** Flags of every command that talks to the cluster. */
export const clusterFlags = {
  kubeconfig: Flags.string({description: 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).', helpGroup: 'KUBERNETES'}),
  context: Flags.string({
    description: 'Kubeconfig context (default: its current context; for an existing demo, the one it was created in).',
    helpGroup: 'KUBERNETES',
  }),
}

/** --owner always means "act as": recorded as created_by on create, checked against it on extend and destroy. */
export const ownerFlag = Flags.string({
  description: 'Act as this identity (default: DEMO_USER, the CI actor, git user.email, the OS user).',
  env: 'DEMO_OWNER',
})

/** --created-by always means "filter by owner" (list, and later gc and stats). */
export const createdByFlag = Flags.string({description: 'Only demos created by this identity.', aliases: ['owner'], deprecateAliases: true})

/** --wait / --no-wait: whether a command waits for the cluster to finish (create, destroy). */
export function waitFlag(description: string) {
  return Flags.boolean({description: `${description} [default: wait]`, default: true, allowNo: true})
}

/** --wait-timeout: how long --wait waits, always with a unit (a bare number is refused: 300 would be hours). */
export function waitTimeoutFlag(options: {description: string; aliases?: string[]}) {
  return Flags.string({
    description: `${options.description} With a unit: 300s, 10m.`,
    ...(options.aliases ? {aliases: options.aliases, deprecateAliases: true} : {}),
  })
}
