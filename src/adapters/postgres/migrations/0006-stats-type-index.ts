// demo stats reads the window's events of one type at a time (created, ready, failed, ...). This index holds them
// in that order and carries demo_id and actor, so those reads touch only the window's entries of that type and,
// on an all-visible table (autovacuum sets that on an append-only one), not the table at all.
export const sql = `
CREATE INDEX idx_demo_events_type_at ON demo_orchestrator.demo_events (type, at) INCLUDE (demo_id, actor);
`
