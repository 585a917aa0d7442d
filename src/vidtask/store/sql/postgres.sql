-- PostgreSQL's own blocks (see __init__.py). Many processes share the database: queue scans
-- skip the rows others hold. JSON columns are jsonb.

-- name: skip_locked
FOR UPDATE SKIP LOCKED

-- name: for_update
FOR UPDATE

-- name: in_models
model = ANY(:models)

-- name: requested_model_is
COALESCE(external_ref->>'requested_model', model) = :requested_model

-- name: error_code_is
error->>'code' = :error_code

-- name: error_code_is_not
COALESCE(error->>'code', '') <> :not_error_code

-- name: id_starts_with
-- (fragment) Served by tasks_owner_id (0003, text_pattern_ops): LIKE compares byte-wise, and
-- the prefix's own ``%``, ``_`` and ``\`` are escaped in :id_pattern.
id LIKE :id_pattern

-- name: delivery_seq
seq

-- name: draft_task_is_expected
task_id IS NOT DISTINCT FROM :expected

-- name: event_lock
-- Every write that makes task versions takes the event-log lock first (migration 0001), so
-- the log's order is commit order.
SELECT pg_advisory_xact_lock(:lock)

-- name: claim_task
-- A cluster worker leases the task of its job, for exactly the attempt the job is for: a
-- cancelled, finished or duplicate job finds nothing.
UPDATE tasks SET status = 'in_progress', stage = 'starting', attempt = :attempt,
    lease_owner = :worker_id, lease_expires_at = :lease_expires_at,
    started_at = COALESCE(started_at, :now), updated_at = :now, version = version + 1
WHERE id = :id AND {can_claim} AND attempt = :attempt - 1
RETURNING *

-- name: requeue_stranded
-- Queued tasks with no live Procrastinate job.
SELECT * FROM tasks t WHERE status = 'queued' AND updated_at < :before
    AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j
        WHERE j.status IN ('todo', 'doing') AND j.args->>'task_id' = t.id)
FOR UPDATE SKIP LOCKED

-- name: id_in
id = ANY(:ids)
