"""Models of procedures."""
