SELECT count(*) FROM sighting_text_queue
