"""vidtask.api."""
