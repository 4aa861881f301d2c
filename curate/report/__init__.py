"""The run report: OUTPUT/report/index.html with its figures (matplotlib PNGs)."""
