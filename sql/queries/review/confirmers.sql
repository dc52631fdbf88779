-- Distinct reviewers whose latest decision on the link is "confirm" (the two-person rule counts these).
SELECT reviewer, category
FROM (
    SELECT DISTINCT ON (reviewer) reviewer, decision, category, created_at, id
    FROM reviews WHERE link_id = %(id)s
    ORDER BY reviewer, created_at DESC, id DESC
) latest
WHERE decision = 'confirm'
ORDER BY created_at DESC, id DESC
