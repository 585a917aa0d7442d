"""Artifact storage: files on a local directory and signed, expiring URLs to them."""
