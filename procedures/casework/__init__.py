"""Casework: reviewers working what residents submitted."""
