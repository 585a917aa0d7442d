"""vidtask.store."""
