"""Connected components of an edge list: union-find in one task for a small graph, else
alternating large-star / small-star rounds in Spark.

Kiveris et al. 2014, "Connected Components in MapReduce and Beyond". Each round is a few
joins and groupBys over the edge list; the result is a star per component whose centre is
its smallest node. Lineage is cut every round (a local checkpoint: executor storage, no
recomputation), so a long chain of rounds never makes the query plan explode; an executor
lost mid-way fails the job rather than give a wrong answer. No step holds a component in
one task's memory beyond its edges. Each round costs about ten small Spark jobs whatever
the graph's size, so a graph of at most ``max_edges_in_one_task`` edges is solved by a
union-find in one executor task instead (datatrove's MinhashDedupCluster does all of its
clustering so); both give every node its component's smallest node.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

_MAX_ROUNDS = 64


def _large_star(edges: DataFrame) -> DataFrame:
    both = edges.unionByName(edges.select(F.col("v").alias("u"), F.col("u").alias("v")))
    centre = both.groupBy("u").agg(F.least(F.col("u"), F.min("v")).alias("m"))
    return (
        both.join(centre, "u")
        .where(F.col("v") > F.col("u"))
        .select(F.col("v").alias("u"), F.col("m").alias("v"))
    )


def _small_star(edges: DataFrame) -> DataFrame:
    # Orient every edge from the larger to the smaller node.
    down = edges.select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v")).where(
        F.col("u") != F.col("v")
    )
    centre = down.groupBy("u").agg(F.min("v").alias("m"))
    neighbours = down.join(centre, "u").select(F.col("v").alias("u"), F.col("m").alias("v"))
    selves = centre.select("u", F.col("m").alias("v"))
    return neighbours.unionByName(selves).where(F.col("u") != F.col("v"))


def _canonical(edges: DataFrame) -> DataFrame:
    return edges.select(F.greatest("u", "v").alias("u"), F.least("u", "v").alias("v")).distinct()


def _fingerprint(edges: DataFrame) -> tuple[int, int]:
    """(edge count, order-free hash sum): equal fingerprints mean an unchanged edge set."""
    row = edges.agg(F.count(F.lit(1)), F.sum(F.xxhash64("u", "v").cast("decimal(38,0)"))).first()
    return row[0], row[1]


def union_find(edges: Iterator[tuple[str, str]]) -> dict[str, str]:
    """node -> the smallest node of its component, for every node on an edge."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for u, v in edges:
        parent.setdefault(u, u)
        parent.setdefault(v, v)
        ru, rv = find(u), find(v)
        if ru != rv:  # the smaller root wins, so a root is its component's smallest node
            parent[max(ru, rv)] = min(ru, rv)
    return {x: find(x) for x in parent}


def _union_find_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    def pairs() -> Iterator[tuple[str, str]]:
        for b in batches:
            yield from zip(b.column("u").to_pylist(), b.column("v").to_pylist(), strict=True)

    roots = union_find(pairs())
    nodes = sorted(roots)
    yield pa.RecordBatch.from_pydict({"node": nodes, "root": [roots[n] for n in nodes]})


def connected_components(edges: DataFrame, max_edges_in_one_task: int = 0) -> DataFrame:
    """Edges (u, v) of string node ids -> (node, root) for every node on an edge, root being
    the smallest node of its component. ``edges`` should be checkpointed: it is counted
    first, to pick the path."""
    if edges.count() <= max_edges_in_one_task:
        return (
            edges.select("u", "v")
            .coalesce(1)
            .mapInArrow(_union_find_partition, "node string, root string")
        )
    current = _canonical(edges.select(F.col("u"), F.col("v"))).localCheckpoint()
    seen = _fingerprint(current)
    for _ in range(_MAX_ROUNDS):
        current = _canonical(_small_star(_canonical(_large_star(current)))).localCheckpoint()
        fingerprint = _fingerprint(current)
        if fingerprint == seen:
            break
        seen = fingerprint
    else:
        raise RuntimeError(f"connected components did not converge in {_MAX_ROUNDS} rounds")
    # Converged: every edge joins a node to its component's smallest node.
    roots = current.groupBy("u").agg(F.min("v").alias("root"))
    centres = roots.select(F.col("root").alias("u"), F.col("root")).distinct()
    return roots.unionByName(centres).select(F.col("u").alias("node"), "root").distinct()
