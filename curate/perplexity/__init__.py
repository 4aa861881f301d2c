"""KenLM perplexity over SentencePiece tokens (CCNet recipe): normalise, train, score."""
