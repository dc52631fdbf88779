-- Records one check: a link_checks row, and the link's state. A definite result (live/dead)
-- replaces the link's liveness; 'unknown' only replaces 'unchecked'/'unknown', so a blocked or
-- rate-limited check never turns a known-live or known-dead link into a guess. dead_at is set on
-- the first dead check after live/unchecked and cleared when the link is live again.
WITH ins AS (
    INSERT INTO link_checks (link_id, checked_at, result, http_status, title, description, member_count, detail)
    VALUES (%(link_id)s, %(checked_at)s, %(result)s, %(http_status)s, %(title)s, %(description)s,
            %(member_count)s, %(detail)s)
    RETURNING link_id
)
UPDATE links AS l
SET next_check_at       = %(next_check_at)s,
    liveness            = CASE WHEN %(result)s <> 'unknown' OR l.liveness IN ('unchecked', 'unknown')
                               THEN %(result)s ELSE l.liveness END,
    checked_at          = CASE WHEN %(result)s <> 'unknown' OR l.liveness IN ('unchecked', 'unknown')
                               THEN %(checked_at)s ELSE l.checked_at END,
    dead_at             = CASE %(result)s WHEN 'dead' THEN COALESCE(l.dead_at, %(checked_at)s)
                                          WHEN 'live' THEN NULL ELSE l.dead_at END,
    preview_title       = CASE WHEN %(result)s = 'live' THEN %(title)s
                               ELSE COALESCE(l.preview_title, %(title)s) END,
    preview_description = CASE WHEN %(result)s = 'live' THEN %(description)s
                               ELSE COALESCE(l.preview_description, %(description)s) END,
    member_count        = CASE WHEN %(result)s = 'live' THEN %(member_count)s ELSE l.member_count END
FROM ins
WHERE l.id = ins.link_id
