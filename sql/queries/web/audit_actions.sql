-- The actions recorded so far, for the audit page's filter.
SELECT DISTINCT action FROM audit_log ORDER BY action
