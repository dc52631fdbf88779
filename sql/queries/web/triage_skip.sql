INSERT INTO triage_skips (reviewer, link_id) VALUES (%(reviewer)s, %(link_id)s)
ON CONFLICT (reviewer, link_id) DO UPDATE SET skipped_at = now()
