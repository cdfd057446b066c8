// The identity the cluster authenticated the creator as (SelfSubjectReview), next to the declared owner
// (created_by). Nullable: rows created before it, or on clusters without the API, keep today's rule.
// Version 3 is this branch's (the lead assigned version numbers per branch so parallel migrations merge).
export const sql = `
ALTER TABLE demo_orchestrator.demo_instances ADD COLUMN IF NOT EXISTS authenticated_as TEXT CHECK (authenticated_as <> '');
`
