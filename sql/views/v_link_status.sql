-- The status a person is shown: 'referred' once a weekly referral lists the link, else the triage
-- decision kept in links.status (the export does not rewrite 50,000 rows and every index on links to
-- record a referral). Every reader takes the shown status from here; linkwatch.db.links.status_filter
-- states the same rule as an index-friendly WHERE clause. (Views are created in file name order:
-- this one sorts before v_links, which uses it.)
CREATE OR REPLACE VIEW v_link_status AS
SELECT
    l.id AS link_id,
    CASE WHEN EXISTS (SELECT 1 FROM referral_items ri WHERE ri.link_id = l.id) THEN 'referred'
         ELSE l.status END AS status
FROM links l;

GRANT SELECT ON v_link_status TO linkwatch_readonly;
