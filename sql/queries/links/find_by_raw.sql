SELECT DISTINCT link_id FROM sightings WHERE raw = %(i)s LIMIT 5
