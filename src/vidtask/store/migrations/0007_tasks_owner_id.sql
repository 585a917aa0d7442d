-- Task id prefix lookups (``TaskFilter.id_prefix``): the owner, then a range over the id.
CREATE INDEX tasks_owner_id ON tasks (owner, id);
