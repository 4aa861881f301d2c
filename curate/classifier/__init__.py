"""fastText quality classifiers (DCLM's recipe): training, scoring, cut-offs."""
