"""curate test suite."""
