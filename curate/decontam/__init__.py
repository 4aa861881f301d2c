"""Benchmark decontamination: load evaluation sets, index their n-grams, match documents."""
