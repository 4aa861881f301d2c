"""Per-document quality filters: pure Python on plain values, no Spark.

Each filter computes threshold-free *signals* once (annotate) and turns its thresholds into
*rules* over those signals (filter), so thresholds change without recomputing anything.
"""
