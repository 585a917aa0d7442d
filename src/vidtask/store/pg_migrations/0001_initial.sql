-- The PostgreSQL schema: the SQLite migrations 0001-0005 in one, with PostgreSQL's types.
-- Procrastinate's own tables are applied next to these by `vidtask db upgrade`.
CREATE TABLE tasks (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    input JSONB NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0,
    previews JSONB NOT NULL DEFAULT '[]',
    result JSONB,
    error JSONB,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    completed_at DOUBLE PRECISION,
    attempt INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 2,
    lease_owner TEXT,
    lease_expires_at DOUBLE PRECISION,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    cancel_requested_at DOUBLE PRECISION,
    idempotency_key TEXT,
    request_hash TEXT,
    webhook_url TEXT,
    webhook_format TEXT NOT NULL DEFAULT 'native',
    external_ref JSONB NOT NULL DEFAULT '{}',
    expires_at DOUBLE PRECISION,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_owner_seq ON tasks (owner, seq);
CREATE INDEX tasks_owner_status_seq ON tasks (owner, status, seq);
CREATE INDEX tasks_owner_model_seq ON tasks (owner, model, seq);
CREATE INDEX tasks_running ON tasks (lease_expires_at) WHERE status = 'in_progress';
CREATE INDEX tasks_queued ON tasks (updated_at) WHERE status = 'queued';
CREATE INDEX tasks_deadline ON tasks (expires_at)
    WHERE status IN ('queued', 'in_progress') AND expires_at IS NOT NULL;

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at DOUBLE PRECISION NOT NULL,
    revoked_at DOUBLE PRECISION
);

-- One row per task version. Readers resume "after seq N", so a row must never become visible
-- after a row with a larger seq: the trigger takes a transaction-scoped advisory lock before
-- it draws a seq, which makes seq order commit order. (The store takes the same lock first
-- thing in each versioned write, so row locks are always taken after it: no deadlock.)
CREATE TABLE task_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress DOUBLE PRECISION NOT NULL,
    attempt INTEGER NOT NULL,
    previews JSONB NOT NULL,
    result JSONB,
    error JSONB,
    started_at DOUBLE PRECISION,
    completed_at DOUBLE PRECISION,
    updated_at DOUBLE PRECISION NOT NULL,
    cancel_requested BOOLEAN NOT NULL
);
CREATE INDEX task_events_task ON task_events (task_id, version);
CREATE INDEX task_events_owner ON task_events (owner, seq);

CREATE FUNCTION vidtask_record_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.version = OLD.version THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7146235001);
    INSERT INTO task_events (task_id, owner, model, version, status, stage, progress, attempt,
        previews, result, error, started_at, completed_at, updated_at, cancel_requested)
    VALUES (NEW.id, NEW.owner, NEW.model, NEW.version, NEW.status, NEW.stage, NEW.progress,
        NEW.attempt, NEW.previews, NEW.result, NEW.error, NEW.started_at, NEW.completed_at,
        NEW.updated_at, NEW.cancel_requested);
    -- Delivered at commit; listeners then read the log from their last seq.
    PERFORM pg_notify('vidtask_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_record_event AFTER INSERT OR UPDATE OF version ON tasks
    FOR EACH ROW EXECUTE FUNCTION vidtask_record_event();

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events JSONB NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    disabled_at DOUBLE PRECISION
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner);

CREATE TABLE webhook_deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    task_id TEXT,
    endpoint_id TEXT,
    url TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DOUBLE PRECISION,
    locked_until DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL,
    delivered_at DOUBLE PRECISION,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_owner ON webhook_deliveries (owner, seq);
CREATE INDEX webhook_deliveries_task ON webhook_deliveries (task_id);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
