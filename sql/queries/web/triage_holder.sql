-- Who holds a live lease on the link, and until when.
SELECT reviewer, expires_at FROM triage_leases WHERE link_id = %(link_id)s AND expires_at > now()
