"""Disaster mode: prepared in peacetime, switched on in one step by a municipality admin."""
