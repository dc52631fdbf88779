-- New links %(reviewer)s has not decided on, counted up to %(cap)s (an exact count of a million-row
-- queue would cost more than the page; the page says "1,000+").
SELECT count(*) FROM (
    SELECT 1 FROM links l
    WHERE l.status = 'new'
      AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.link_id = l.id AND r.reviewer = %(reviewer)s)
    LIMIT %(cap)s
) AS q
