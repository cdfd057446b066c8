// demo stats and the monthly budget find where each demo's life ended (its first `destroyed` or `failed` event);
// this partial index holds only those events, so that lookup reads no other event.
export const sql = `
CREATE INDEX idx_demo_events_ends ON demo_orchestrator.demo_events (demo_id, at) WHERE type IN ('destroyed', 'failed');
`
