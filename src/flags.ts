import {Flags} from '@oclif/core'

/** Flags of every command that talks to the cluster. */
export const clusterFlags = {
  kubeconfig: Flags.string({description: 'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).', helpGroup: 'KUBERNETES'}),
  context: Flags.string({description: 'Kubeconfig context (default: its current context).', helpGroup: 'KUBERNETES'}),
}

/** --owner: who acts (recorded as created_by on create; checked against it on extend and destroy). */
export const ownerFlag = Flags.string({description: 'Act as this identity (default: DEMO_USER, the CI actor, git user.email, the OS user).', env: 'DEMO_OWNER'})
