"""Faults on PostgreSQL: killed workers, a restarted database, a full disk, two Web Connectors, a clock jump."""
