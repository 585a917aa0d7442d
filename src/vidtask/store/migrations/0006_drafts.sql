-- capcut-mate drafts (issue 8): one JSON document per draft, owned by an API key. ``version``
-- goes up on every change, so concurrent add_* calls update by compare-and-swap and none is lost;
-- ``task_id`` is the draft's latest render.
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    content TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    task_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX drafts_owner_created ON drafts (owner, created_at);
