-- The statements of the task, webhook and draft stores, the same on SQLite and PostgreSQL.
-- What one engine runs otherwise is in sqlite.sql or postgres.sql under the same name; see
-- __init__.py for the syntax ({fragment}, {can_<move>}, :parameter).

-- ============================================================================================
-- Tasks: the API side
-- ============================================================================================

-- name: insert_task
-- A new task; nothing (no row back) when its owner already used its idempotency key.
INSERT INTO tasks (id, owner, model, input, status, stage, progress, priority, previews, result,
    error, created_at, updated_at, started_at, completed_at, attempt, max_attempts, lease_owner,
    lease_expires_at, cancel_requested, idempotency_key, request_hash, webhook_url,
    webhook_format, external_ref, expires_at, version)
VALUES (:id, :owner, :model, :input, :status, :stage, :progress, :priority, :previews, :result,
    :error, :created_at, :updated_at, :started_at, :completed_at, :attempt, :max_attempts,
    :lease_owner, :lease_expires_at, :cancel_requested, :idempotency_key, :request_hash,
    :webhook_url, :webhook_format, :external_ref, :expires_at, :version)
ON CONFLICT (owner, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id

-- name: task_version
-- The status-GET hot path: the version alone, to reuse a decoded task while it is unchanged.
SELECT version, owner FROM tasks WHERE id = :id

-- name: task
SELECT * FROM tasks WHERE id = :id

-- name: task_versions
-- The same for the tasks asked for in one turn of an API process's event loop, in one
-- statement (`postgres.AsyncReads`); :ids is the engine's array (`Connector.array`).
SELECT id, version, owner FROM tasks WHERE {id_in}

-- name: owned_task
SELECT * FROM tasks WHERE id = :id AND owner = :owner

-- name: task_by_key
SELECT * FROM tasks WHERE owner = :owner AND idempotency_key = :key

-- name: page_after
-- The list cursor: tasks before (or after, ascending) the last one of the previous page.
SELECT seq FROM tasks WHERE id = :after AND owner = :owner

-- name: cancel_queued
-- A cancel that no worker has to see: the task is not leased.
UPDATE tasks SET status = 'cancelled', stage = 'cancelled', completed_at = :now,
    updated_at = :now, cancel_requested = TRUE, cancel_requested_at = :now, error = :error,
    version = version + 1
WHERE id = :id AND owner = :owner AND {can_cancel}

-- name: flag_cancel
-- A cancel its worker carries out (it finishes the task as cancelled).
UPDATE tasks SET cancel_requested = TRUE, cancel_requested_at = :now, updated_at = :now,
    version = version + 1
WHERE id = :id AND owner = :owner AND {leased} AND NOT cancel_requested

-- name: delete_task
DELETE FROM tasks WHERE id = :id AND owner = :owner AND {terminal}

-- name: count_by_status
SELECT status, COUNT(*) AS n FROM tasks GROUP BY status

-- name: count_owned
SELECT COUNT(*) AS n FROM tasks WHERE owner = :owner

-- name: adopt_clear_keys
-- Adoption: the moving tasks whose idempotency key the new owner already uses lose it. No
-- statement of an adoption sets ``version``, so the event triggers stay quiet.
UPDATE tasks SET idempotency_key = NULL
WHERE owner = :from_owner AND idempotency_key IN (
    SELECT idempotency_key FROM tasks WHERE owner = :to_owner AND idempotency_key IS NOT NULL)

-- name: adopt_tasks
UPDATE tasks SET owner = :to_owner WHERE owner = :from_owner

-- name: adopt_task_events
UPDATE task_events SET owner = :to_owner WHERE owner = :from_owner

-- name: adopt_webhook_endpoints
UPDATE webhook_endpoints SET owner = :to_owner WHERE owner = :from_owner

-- name: adopt_webhook_deliveries
UPDATE webhook_deliveries SET owner = :to_owner WHERE owner = :from_owner

-- name: adopt_drafts
UPDATE drafts SET owner = :to_owner WHERE owner = :from_owner

-- ============================================================================================
-- Tasks: the worker side. Writes are fenced: they change nothing unless the worker still holds
-- that attempt's lease.
-- ============================================================================================

-- name: lease_held
-- (fragment) The fence.
id = :id AND lease_owner = :worker_id AND attempt = :attempt

-- name: next_queued
-- (fragment) The queue's head, among the worker's models unless :any_model.
SELECT seq FROM tasks WHERE {can_claim} AND (:any_model OR {in_models})
ORDER BY priority DESC, seq LIMIT 1 {skip_locked}

-- name: claim
-- The highest-priority, oldest queued task of the worker's models, leased to it.
UPDATE tasks SET status = 'in_progress', stage = 'starting', attempt = attempt + 1,
    lease_owner = :worker_id, lease_expires_at = :lease_expires_at,
    started_at = COALESCE(started_at, :now), updated_at = :now, version = version + 1
WHERE seq = ({next_queued})
RETURNING *

-- name: heartbeat
UPDATE tasks SET lease_expires_at = :lease_expires_at
WHERE {lease_held} AND {leased}
RETURNING *

-- name: renew_leases
-- Every lease a worker holds, extended at once (the relay poller's heartbeat for all its tasks).
UPDATE tasks SET lease_expires_at = :lease_expires_at
WHERE lease_owner = :worker_id AND {leased}
RETURNING id

-- name: cancels_requested
-- The tasks a worker holds whose cancel a client asked for.
SELECT id FROM tasks WHERE lease_owner = :worker_id AND {leased} AND cancel_requested

-- name: report
-- Stage and progress (already clamped to 0-100; it never goes down); the lease goes on.
UPDATE tasks SET stage = COALESCE(:stage, stage),
    progress = CASE WHEN :progress > progress THEN :progress ELSE progress END,
    previews = COALESCE(:previews, previews), lease_expires_at = :lease_expires_at,
    updated_at = :now, version = version + 1
WHERE {lease_held} AND {leased}

-- name: checkpoint_read
SELECT external_ref FROM tasks WHERE {lease_held} AND {leased} {for_update}

-- name: checkpoint_write
-- The merged external reference (read by checkpoint_read, in the same transaction).
UPDATE tasks SET external_ref = :external_ref, updated_at = :now, version = version + 1
WHERE id = :id

-- name: finish
-- The terminal status, once: a second finish finds no lease.
UPDATE tasks SET status = :status, stage = :stage, progress = COALESCE(:progress, progress),
    result = :result, error = :error, completed_at = :now, updated_at = :now,
    lease_owner = NULL, lease_expires_at = NULL, version = version + 1
WHERE {lease_held} AND {can_finish}

-- name: release
-- Back to the queue without using up the attempt, unless its cancel was requested.
UPDATE tasks SET status = 'queued', stage = 'queued', attempt = attempt - 1,
    lease_owner = NULL, lease_expires_at = NULL, updated_at = :now, version = version + 1
WHERE NOT cancel_requested AND {lease_held} AND {can_release}
RETURNING *

-- ============================================================================================
-- Tasks: the supervisor side
-- ============================================================================================

-- name: recover_outcome
-- (fragment) A lost worker's task: cancelled if that was asked, requeued while attempts
-- remain, else failed with :lost.
status = CASE WHEN cancel_requested THEN 'cancelled'
    WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END,
stage = CASE WHEN cancel_requested THEN 'cancelled'
    WHEN attempt < max_attempts THEN 'queued' ELSE 'failed' END,
error = CASE WHEN cancel_requested THEN :cancelled WHEN attempt < max_attempts THEN NULL
    ELSE :lost END,
completed_at = CASE WHEN cancel_requested OR attempt >= max_attempts THEN :now ELSE NULL END,
lease_owner = NULL, lease_expires_at = NULL, updated_at = :now, version = version + 1

-- name: recover_all
UPDATE tasks SET {recover_outcome} WHERE {can_recover} RETURNING *

-- name: recover_worker
UPDATE tasks SET {recover_outcome}
WHERE {can_recover} AND lease_owner = :worker_id RETURNING *

-- name: recover_expired
UPDATE tasks SET {recover_outcome}
WHERE {can_recover} AND lease_expires_at < :now RETURNING *

-- name: overdue_cancels
SELECT * FROM tasks
WHERE {leased} AND cancel_requested AND cancel_requested_at < :before

-- name: expire_overdue
-- The status and deadline terms match the partial index tasks_deadline.
UPDATE tasks SET status = 'failed', stage = 'expired', error = :error, completed_at = :now,
    updated_at = :now, lease_owner = NULL, lease_expires_at = NULL, version = version + 1
WHERE {can_expire} AND expires_at IS NOT NULL AND expires_at < :now
RETURNING *

-- ============================================================================================
-- Tasks: the event log (rows written by triggers)
-- ============================================================================================

-- name: last_event_seq
SELECT COALESCE(MAX(seq), 0) AS seq FROM task_events

-- name: events_since
SELECT seq, task_id, owner, model, version, status FROM task_events
WHERE seq > :seq ORDER BY seq LIMIT :limit

-- name: owner_events_since
SELECT seq, task_id, owner, model, version, status FROM task_events
WHERE owner = :owner AND seq > :seq ORDER BY seq LIMIT :limit

-- name: task_history
SELECT * FROM task_events
WHERE task_id = :id AND version > :after_version ORDER BY version LIMIT :limit

-- name: event
SELECT * FROM task_events WHERE seq = :seq

-- name: prune_events
DELETE FROM task_events WHERE updated_at < :before AND seq < :keep_from_seq

-- ============================================================================================
-- API keys
-- ============================================================================================

-- name: insert_key
INSERT INTO api_keys (id, name, hash, created_at) VALUES (:id, :name, :hash, :now)

-- name: find_key
SELECT * FROM api_keys WHERE hash = :hash AND revoked_at IS NULL

-- name: keys
SELECT * FROM api_keys ORDER BY created_at

-- name: revoke_key
UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL

-- name: has_active_key
SELECT 1 AS found FROM api_keys WHERE revoked_at IS NULL LIMIT 1

-- ============================================================================================
-- Webhooks: endpoints, and the delivery outbox
-- ============================================================================================

-- name: insert_endpoint
INSERT INTO webhook_endpoints
    (id, owner, url, secret, events, description, created_at, disabled_at)
VALUES (:id, :owner, :url, :secret, :events, :description, :created_at, :disabled_at)

-- name: endpoint
SELECT * FROM webhook_endpoints WHERE id = :id AND owner = :owner

-- name: endpoints
SELECT * FROM webhook_endpoints
WHERE owner = :owner AND (:include_disabled OR disabled_at IS NULL) ORDER BY created_at

-- name: disable_endpoint
UPDATE webhook_endpoints SET disabled_at = :now
WHERE id = :id AND owner = :owner AND disabled_at IS NULL

-- name: cursor
SELECT seq FROM cursors WHERE name = :name

-- name: move_cursor
-- Compare-and-swap: only the relay that read :start moves it.
UPDATE cursors SET seq = :end WHERE name = :name AND seq = :start

-- name: insert_cursor
-- A cursor that was never stored reads as 0: the first move inserts it.
INSERT INTO cursors (name, seq) VALUES (:name, :end) ON CONFLICT (name) DO NOTHING

-- name: delivery_columns
-- (fragment) The columns of a ``Delivery``, in its order.
id, owner, task_id, endpoint_id, url, event_type, payload, status, created_at, attempts,
next_attempt_at, delivered_at, last_error

-- name: insert_delivery
INSERT INTO webhook_deliveries ({delivery_columns})
VALUES (:id, :owner, :task_id, :endpoint_id, :url, :event_type, :payload, :status,
    :created_at, :attempts, :next_attempt_at, :delivered_at, :last_error)

-- name: due_deliveries
-- (fragment) Pending deliveries whose time has come and that no sender holds.
SELECT id FROM webhook_deliveries
WHERE status = 'pending' AND next_attempt_at <= :now
    AND (locked_until IS NULL OR locked_until < :now)
ORDER BY next_attempt_at LIMIT :limit {skip_locked}

-- name: claim_due
UPDATE webhook_deliveries SET locked_until = :locked_until WHERE id IN ({due_deliveries})
RETURNING {delivery_columns}

-- name: next_due
SELECT MIN(next_attempt_at) AS due FROM webhook_deliveries WHERE status = 'pending'

-- name: upsert_attempt
INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
VALUES (:delivery_id, :attempt, :at, :status_code, :error, :duration_ms)
ON CONFLICT (delivery_id, attempt) DO UPDATE SET at = excluded.at,
    status_code = excluded.status_code, error = excluded.error,
    duration_ms = excluded.duration_ms

-- name: attempted
UPDATE webhook_deliveries SET status = :status, attempts = :attempt,
    next_attempt_at = :next_attempt_at, locked_until = NULL,
    delivered_at = COALESCE(:delivered_at, delivered_at), last_error = :last_error
WHERE id = :id

-- name: delivery
SELECT {delivery_columns} FROM webhook_deliveries WHERE id = :id AND owner = :owner

-- name: attempts
SELECT attempt, at, duration_ms, status_code, error FROM webhook_attempts
WHERE delivery_id = :id ORDER BY attempt

-- name: resend
UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :now, locked_until = NULL,
    created_at = :now
WHERE id = :id AND owner = :owner
RETURNING {delivery_columns}

-- ============================================================================================
-- Drafts (capcut-mate): compare-and-swap on ``version``
-- ============================================================================================

-- name: draft_columns
-- (fragment)
id, owner, content, created_at, updated_at, version, task_id

-- name: insert_draft
INSERT INTO drafts ({draft_columns})
VALUES (:id, :owner, :content, :created_at, :updated_at, :version, :task_id)

-- name: draft
SELECT {draft_columns} FROM drafts WHERE id = :id AND owner = :owner

-- name: update_draft
UPDATE drafts SET content = :content, version = version + 1, updated_at = :now
WHERE id = :id AND owner = :owner AND version = :version
RETURNING {draft_columns}

-- name: set_draft_task
UPDATE drafts SET task_id = :task_id, version = version + 1, updated_at = :now
WHERE id = :id AND owner = :owner AND {draft_task_is_expected}

-- name: count_drafts
SELECT COUNT(*) AS n FROM drafts WHERE owner = :owner
