-- capcut-mate drafts (SQLite migration 0006): one JSON document per draft, owned by an API key;
-- ``version`` makes updates compare-and-swap; ``task_id`` is the draft's latest render.
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    content JSONB NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    task_id TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX drafts_owner_created ON drafts (owner, created_at);
