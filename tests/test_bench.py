"""The bench harness's own logic (the figures themselves are never asserted: `make bench` measures them)."""

import gzip
import hashlib
import json
import os

from pipelines import bench


def test_a_day_of_files_is_new_content_with_the_same_rows(tmp_path):
    raw = tmp_path / "raw"
    skdn = raw / "posyandu" / "skdn" / "19" / "19.01"
    skdn.mkdir(parents=True)
    for i in range(3):
        (skdn / f"skdn_1901_2024{12:02d}_{i}.csv").write_text("a;b\n1;2\n3;4\n")
    eppgbm = raw / "posyandu" / "eppgbm" / "19" / "19.01" / "2024-12"
    eppgbm.mkdir(parents=True)
    (eppgbm / "ukur.csv.gz").write_bytes(gzip.compress(b"x,y\n1,2\n", mtime=0))
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in raw.rglob("*") if p.is_file()}
    day = bench.one_day_of_files(raw, "2024-12", share=2)
    new = [p for p in raw.rglob("revisi_*")]
    assert day == {"files": len(new), "rows_approx": 2 * 2 + 1} and len(new) == 3
    for p in new:
        original = p.with_name(p.name.removeprefix("revisi_"))
        assert hashlib.sha256(p.read_bytes()).hexdigest() != before[original]  # a new delivery, not a duplicate
        text = gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes().replace(b"\r\n", b"\n")
        plain = gzip.decompress(original.read_bytes()) if p.suffix == ".gz" else original.read_bytes()
        assert text == plain


def test_memory_of_a_process_tree_is_sampled():
    assert bench.tree_rss(os.getpid()) > 10 * bench.MIB


def results(scale: str, rows: int, first_s: float, floor_s: float) -> dict:
    return {
        "scale": scale, "provinces": 1, "factor": 1.0, "months": bench.MONTHS, "measured_at": "t",
        "machine": {"cpus": 2, "memory_gib": 24, "python": "3.11"}, "disk_raw_mib": 1.0,
        "generate": {"rows": rows, "wall_s": 1.0, "peak_rss_mib": 10},
        "floor": {"wall_s": floor_s, "rows": rows, "peak_rss_mib": 10},
        "first_run": {
            "wall_s": first_s, "peak_rss_mib": 5000,
            "steps": {"kampung_kb_dbt": {"seconds": 20.0, "peak_rss_mib": 5000}},
            "entities": {"pk_anggota": {"rows_read": rows, "seconds": 10.0, "step_peak_rss_mib": 100}},
        },
        "disk_mib": {"landing": 1.0},
        "one_day": {"files": 1, "rows_approx": 10},
        "incremental_run": {"wall_s": 30.0, "peak_rss_mib": 100, "steps": {}, "entities": {}},
        "rebuild_eppgbm_month": {"period": "2024-12", "wall_s": 5.0, "peak_rss_mib": 100},
    }  # fmt: skip


def test_targets_are_judged_against_the_figures_and_the_smaller_scale(tmp_path):
    (tmp_path / "province.json").write_text(json.dumps(results("province", 1000, 100.0, 50.0)))
    tenth = results("tenth", 2000, 250.0, 100.0)
    targets = bench.judge(tenth, tmp_path)
    assert targets["end_to_end_vs_floor"] == {"value": 2.5, "limit": 3.0, "met": True}
    assert targets["peak_memory_gib"]["met"] is False  # 5000 MiB > 4 GiB
    assert targets["incremental_run_s"]["met"] is True
    assert targets["cost_per_row_vs_province"] == {"value": 1.25, "limit": 1.05, "met": False}
    assert targets["pk_round_read_validate_model_s"]["met"] is None  # judged at national scale only
    tenth["targets"] = targets
    table = bench.markdown(tenth)
    assert "| end_to_end_vs_floor | 2.5 | 3.0 | yes |" in table and "| peak_memory_gib | 4.88 | 4.0 | **no** |" in table
