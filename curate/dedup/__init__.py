"""Deduplication: URL and exact-content duplicates, MinHash-LSH near-duplicates on Spark."""
