"""vidtask.render."""
