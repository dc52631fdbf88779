-- Every source name, for the error that lists them.
SELECT name FROM sources WHERE NOT adhoc ORDER BY name
