-- Task id prefix lookups (``TaskFilter.id_prefix``, SQLite migration 0007): ``id LIKE 'p%'``
-- can use a b-tree only under the C collation, so the id column here compares byte-wise
-- (text_pattern_ops) whatever the database's collation.
CREATE INDEX tasks_owner_id ON tasks (owner, id text_pattern_ops);
