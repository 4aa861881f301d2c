"""How a stage table's files are grouped into read tasks (``read_groups``)."""

from __future__ import annotations

from curate.tables import OPEN_COST, PACK_BYTES, read_groups

MIB = 1024 * 1024


def _files(sizes: list[int]) -> list[dict]:
    return [{"name": f"part-{i:05d}.parquet", "rows": 1, "bytes": b} for i, b in enumerate(sizes)]


def test_one_group_per_core_balanced_by_bytes():
    groups = read_groups(_files([9 * MIB, 1 * MIB, 5 * MIB, 4 * MIB, 2 * MIB, 3 * MIB]), 2)
    # 4 MiB OPEN_COST a file: 13, 9, 8, 7, 6, 5 MiB, each into the lighter group.
    assert groups == [[0, 1, 5], [2, 3, 4]]  # 25 and 23 MiB
    assert sorted(i for g in groups for i in g) == list(range(6))


def test_more_groups_when_a_group_would_pass_the_cap_and_never_more_than_files():
    sizes = [PACK_BYTES // 4] * 12
    groups = read_groups(_files(sizes), 2)
    assert len(groups) == 4  # 12 quarter-caps (+ OPEN_COST each) need 4 groups, not 2
    assert all(sum(sizes[i] + OPEN_COST for i in g) <= PACK_BYTES + 3 * OPEN_COST for g in groups)
    assert read_groups(_files([MIB]), 8) == [[0]]
    assert read_groups(_files([MIB, MIB, MIB]), 8) == [[0], [1], [2]]
