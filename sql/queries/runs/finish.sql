-- A crawl run ends (finished, interrupted or failed) with its stats copied to columns and kept whole.
UPDATE crawl_runs
SET finished_at = now(),
    status = %(status)s,
    pages = %(pages)s,
    links = %(links)s,
    new_links = %(new_links)s,
    errors = %(errors)s,
    bytes = %(bytes)s,
    media_refused = %(media_refused)s,
    skipped_unchanged = %(skipped_unchanged)s,
    not_modified = %(not_modified)s,
    new_pages = %(new_pages)s,
    stats = %(stats)s
WHERE id = %(run_id)s
