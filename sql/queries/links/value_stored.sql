-- Whether any link has this platform or kind: a word the extractor no longer produces still names
-- stored links and stays a valid filter.
SELECT EXISTS (SELECT 1 FROM links WHERE (%(column)s = 'platform' AND platform = %(value)s)
                                       OR (%(column)s = 'kind' AND kind = %(value)s))
