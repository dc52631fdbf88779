-- Wakes the senders (LISTEN linkwatch_alerts); PostgreSQL delivers it when the transaction commits.
SELECT pg_notify('linkwatch_alerts', '')
