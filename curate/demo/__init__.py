"""The embedded demo crawl: generated, deterministic, with ground truth."""
