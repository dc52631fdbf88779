-- The same match as text_match.sql, probed link by link. For a common term (tens of thousands of
-- matching sightings) walking links in sort order and probing each one's few sightings finds a
-- page of results long before the index scan has fetched every match. OFFSET 0 keeps the planner
-- from turning the probes back into one hashed scan of every match.
(
    l.preview_title ILIKE %(text)s
    OR EXISTS (
        SELECT 1 FROM sightings s WHERE s.link_id = l.id AND s.context ILIKE %(text)s OFFSET 0
    )
    OR EXISTS (
        SELECT 1 FROM sightings s JOIN pages p ON p.id = s.page_id
        WHERE s.link_id = l.id AND p.title ILIKE %(text)s OFFSET 0
    )
)
