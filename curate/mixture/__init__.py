"""Training-ready output: domains, tokenised shards, the mixture manifest and its weights."""
