SELECT p.id, p.url, p.sha256, p.fetched_at, p.http_status, p.content_type, p.title, p.rendered, p.bytes,
       p.warc_file, p.warc_offset, p.warc_length, p.crawl_run_id, src.name AS source
FROM pages p
LEFT JOIN crawl_runs cr ON cr.id = p.crawl_run_id
LEFT JOIN sources src ON src.id = cr.source_id
WHERE p.id = %(id)s
