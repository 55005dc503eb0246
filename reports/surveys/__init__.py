"""Survey and public-comment results: per-question aggregates for staff (filters, free
text, CSV) and an optional public page of aggregates with small cells suppressed."""
