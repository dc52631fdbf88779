-- Whether the page advertises a link that was referred (what a regulator may open).
SELECT EXISTS (
    SELECT 1 FROM sightings s JOIN referral_items ri ON ri.link_id = s.link_id WHERE s.page_id = %(id)s
)
