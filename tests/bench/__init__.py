"""``make bench``: webhook acknowledgement against a bare Django view, and conversation turns.

Run ``python -m tests.bench --help``. The package holds the bench-only settings and URLconf
(``settings``, ``urls``), the load generator (``load``), the conversation driver (``turns``),
the processes it starts (``servers``), the data it needs (``world``) and the report.
"""
