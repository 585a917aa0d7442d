-- Task events (a change log written by triggers), webhook endpoints and the delivery outbox.
ALTER TABLE tasks ADD COLUMN webhook_format TEXT NOT NULL DEFAULT 'native';

-- One row per task version, in commit order. Triggers write it, so no code path that changes a
-- task can forget to publish the change. SSE replays from it; the webhook relay reads it.
CREATE TABLE task_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL,
    attempt INTEGER NOT NULL,
    previews TEXT NOT NULL,
    result TEXT,
    error TEXT,
    started_at REAL,
    completed_at REAL,
    updated_at REAL NOT NULL,
    cancel_requested INTEGER NOT NULL
);
CREATE INDEX task_events_task ON task_events (task_id, version);
CREATE INDEX task_events_owner ON task_events (owner, seq);

CREATE TRIGGER tasks_event_on_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_events (task_id, owner, model, version, status, stage, progress, attempt,
        previews, result, error, started_at, completed_at, updated_at, cancel_requested)
    VALUES (new.id, new.owner, new.model, new.version, new.status, new.stage, new.progress,
        new.attempt, new.previews, new.result, new.error, new.started_at, new.completed_at,
        new.updated_at, new.cancel_requested);
END;

CREATE TRIGGER tasks_event_on_update AFTER UPDATE OF version ON tasks
WHEN new.version <> old.version BEGIN
    INSERT INTO task_events (task_id, owner, model, version, status, stage, progress, attempt,
        previews, result, error, started_at, completed_at, updated_at, cancel_requested)
    VALUES (new.id, new.owner, new.model, new.version, new.status, new.stage, new.progress,
        new.attempt, new.previews, new.result, new.error, new.started_at, new.completed_at,
        new.updated_at, new.cancel_requested);
END;

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    disabled_at REAL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner);

-- The outbox: one row per logical delivery (its id is the `webhook-id` header, the same on
-- every attempt), and one row per attempt.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    task_id TEXT,
    endpoint_id TEXT,
    url TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL,
    locked_until REAL,
    created_at REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_owner ON webhook_deliveries (owner, created_at);
CREATE INDEX webhook_deliveries_task ON webhook_deliveries (task_id);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at REAL NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms REAL NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- How far the relay has turned task events into deliveries.
CREATE TABLE cursors (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
