INSERT INTO reviews (link_id, reviewer, decision, category, note)
VALUES (%(id)s, %(reviewer)s, %(decision)s, %(category)s, %(note)s)
