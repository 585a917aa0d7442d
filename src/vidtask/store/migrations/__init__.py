"""Numbered, forward-only SQL migrations applied by yoyo (``vidtask.store.migrate``)."""
