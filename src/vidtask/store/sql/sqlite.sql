-- SQLite's own blocks (see __init__.py). Every write runs in BEGIN IMMEDIATE, which holds the
-- database's one write lock: no row locks to take. JSON columns are text.

-- name: skip_locked
-- (fragment, empty here) PostgreSQL's FOR UPDATE SKIP LOCKED.

-- name: for_update
-- (fragment, empty here) PostgreSQL's FOR UPDATE.

-- name: in_models
-- (fragment) The task's model is one of :models, a JSON array.
model IN (SELECT value FROM json_each(:models))

-- name: requested_model_is
-- (fragment) The model the client asked for (an alias), else the local model.
COALESCE(json_extract(external_ref, '$.requested_model'), model) = :requested_model

-- name: error_code_is
json_extract(error, '$.code') = :error_code

-- name: error_code_is_not
COALESCE(json_extract(error, '$.code'), '') <> :not_error_code

-- name: id_starts_with
-- (fragment) A range over the index tasks_owner_id (0007). ``id`` compares byte-wise (BINARY),
-- and UTF-8 byte order is code point order, so these bounds hold exactly the ids that start
-- with the prefix (LIKE would ignore case; GLOB would need escaping).
id >= :id_from AND id < :id_to

-- name: delivery_seq
-- (fragment) The outbox's insertion order.
rowid

-- name: draft_task_is_expected
-- (fragment) NULL-safe equality.
task_id IS :expected

-- name: id_in
id IN (SELECT value FROM json_each(:ids))
