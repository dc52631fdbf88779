-- New links per day (in the configured zone) and platform since %(since)s, for the dashboard chart.
SELECT (l.first_seen AT TIME ZONE %(tz)s)::date AS day, l.platform, count(*) AS n
FROM links l
WHERE l.first_seen >= %(since)s
GROUP BY 1, 2
ORDER BY 1, 2
