-- Links by triage status and liveness (one pass over links), and how many were ever referred.
SELECT l.status, l.liveness, count(*) AS n
FROM links l
GROUP BY 1, 2
