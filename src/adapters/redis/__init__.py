"""Coordination on Redis: locks, de-duplication and rate limits shared by several instances."""
