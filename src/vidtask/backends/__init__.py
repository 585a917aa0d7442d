"""vidtask.backends."""
