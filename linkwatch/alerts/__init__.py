"""Alerts: new high-scoring links notified to webhooks and by e-mail through a PostgreSQL outbox."""
