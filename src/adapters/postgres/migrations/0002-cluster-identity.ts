// The identity of the cluster a demo was created in (issue 12): the UID of its kube-system namespace, stable
// across kubeconfigs (a laptop, CI and the gc CronJob name the same cluster by different contexts). Nullable:
// rows created before it keep being matched by kube_context.
export const sql = `
ALTER TABLE demo_orchestrator.demo_instances ADD COLUMN cluster_id VARCHAR(64);
`
