SELECT warc_file, warc_offset, sha256 FROM pages WHERE id = %(id)s
