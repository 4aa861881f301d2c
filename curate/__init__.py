"""curate: Common Crawl to LLM pre-training data on Spark."""

__version__ = "0.4.0"
