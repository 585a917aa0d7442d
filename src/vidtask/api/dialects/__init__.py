"""vidtask.api.dialects."""
