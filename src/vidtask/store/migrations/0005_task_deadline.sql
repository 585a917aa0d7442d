-- The deadline sweep (Ark's execution_expires_after) looks only at unfinished tasks that have one.
CREATE INDEX tasks_deadline ON tasks (expires_at)
    WHERE status IN ('queued', 'in_progress') AND expires_at IS NOT NULL;
