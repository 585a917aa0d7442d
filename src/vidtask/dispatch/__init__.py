"""vidtask.dispatch."""
