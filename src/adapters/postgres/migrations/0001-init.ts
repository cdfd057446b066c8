// The plan's demo_instances (seed-plan.md), completed: 'destroyed' in the status CHECK (the plan's cleanup set a
// status its constraint forbade), destroyed_at, auto_cleanup, updated_at, last_error, extension_count,
// phase timings, a version for compare-and-set, and an append-only events table.
export const sql = `
CREATE TABLE demo_orchestrator.demo_instances (
  id VARCHAR(32) PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9]{5,31}$'),
  name VARCHAR(40),
  namespace VARCHAR(63) UNIQUE NOT NULL CHECK (namespace ~ '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'),
  demo_type VARCHAR(32) NOT NULL,
  status VARCHAR(16) NOT NULL CHECK (status IN ('creating', 'ready', 'degraded', 'destroying', 'destroyed', 'failed')),
  portal_url TEXT NOT NULL,
  candidate_url TEXT NOT NULL,
  database_mode VARCHAR(24) NOT NULL DEFAULT 'none' CHECK (database_mode IN ('none', 'shared-schema', 'supabase-project')),
  database_schema VARCHAR(63),
  supabase_project_id VARCHAR(64),
  supabase_url TEXT,
  supabase_anon_key TEXT,
  kube_context TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  ready_at TIMESTAMPTZ,
  destroyed_at TIMESTAMPTZ,
  created_by VARCHAR(256) NOT NULL CHECK (created_by <> ''),
  auto_cleanup BOOLEAN NOT NULL DEFAULT true,
  extension_count INTEGER NOT NULL DEFAULT 0 CHECK (extension_count >= 0),
  last_error TEXT,
  phase_timings JSONB NOT NULL DEFAULT '{}',
  metadata JSONB NOT NULL DEFAULT '{}',
  version INTEGER NOT NULL DEFAULT 1,
  CHECK (expires_at > created_at),
  CHECK ((status = 'destroyed') = (destroyed_at IS NOT NULL))
);

CREATE INDEX idx_demo_instances_status ON demo_orchestrator.demo_instances (status);
CREATE INDEX idx_demo_instances_expires ON demo_orchestrator.demo_instances (expires_at)
  WHERE status IN ('creating', 'ready', 'degraded', 'failed', 'destroying');
CREATE INDEX idx_demo_instances_created_by ON demo_orchestrator.demo_instances (created_by, status);
CREATE INDEX idx_demo_instances_created_at ON demo_orchestrator.demo_instances (created_at DESC, id);

CREATE TABLE demo_orchestrator.demo_events (
  id BIGSERIAL PRIMARY KEY,
  demo_id VARCHAR(32) NOT NULL REFERENCES demo_orchestrator.demo_instances (id),
  type VARCHAR(32) NOT NULL,
  at TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor VARCHAR(256) NOT NULL,
  data JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_demo_events_demo ON demo_orchestrator.demo_events (demo_id, id);
CREATE INDEX idx_demo_events_at ON demo_orchestrator.demo_events (at, type);

-- The audit trail is append-only: rows can be added, never changed or removed.
CREATE FUNCTION demo_orchestrator.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'demo_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER demo_events_append_only BEFORE UPDATE OR DELETE ON demo_orchestrator.demo_events
  FOR EACH ROW EXECUTE FUNCTION demo_orchestrator.refuse_event_change();
`
