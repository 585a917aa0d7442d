-- Tasks, API keys and the indexes behind the list and claim queries.
CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    stage TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0,
    previews TEXT NOT NULL DEFAULT '[]',
    result TEXT,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    started_at REAL,
    completed_at REAL,
    attempt INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 2,
    lease_owner TEXT,
    lease_expires_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    cancel_requested_at REAL,
    idempotency_key TEXT,
    request_hash TEXT,
    webhook_url TEXT,
    external_ref TEXT NOT NULL DEFAULT '{}',
    expires_at REAL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_owner_seq ON tasks (owner, seq);
CREATE INDEX tasks_owner_status_seq ON tasks (owner, status, seq);
CREATE INDEX tasks_owner_model_seq ON tasks (owner, model, seq);
CREATE INDEX tasks_queue ON tasks (priority DESC, seq) WHERE status = 'queued';
CREATE INDEX tasks_running ON tasks (lease_expires_at) WHERE status = 'in_progress';

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    revoked_at REAL
);
