-- A sender waits for the store's NOTIFY (notify.sql) on this channel.
LISTEN linkwatch_alerts
