-- Which of the source names given to `links --source` exist (a typo must not look like "no links").
SELECT name FROM sources WHERE name = ANY(%(names)s::text[])
