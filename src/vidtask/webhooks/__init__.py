"""Signed webhooks from a durable outbox: relay (task events -> deliveries) and sender."""
