// The seed value a demo's data was generated from (issue 10): `demo reset` re-seeds with it, and a second demo
// created with the same type and --seed-value gets the same rows. A plain INTEGER (pg returns BIGINT as text).
export const sql = `
ALTER TABLE demo_orchestrator.demo_instances ADD COLUMN seed_value INTEGER CHECK (seed_value >= 0);
`
