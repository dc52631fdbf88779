SELECT id FROM links WHERE canonical_url IN (%(i)s, rtrim(%(i)s, '/'), %(i)s || '/')
