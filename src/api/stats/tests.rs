//! `compute` against engine stats readings: cgroup v1 recorded live from
//! this machine's engine (20.10, `--cpus 0.5 -m 64m`, a busy loop), cgroup
//! v2 recorded from engines on cgroup v2 hosts by the OpenTelemetry
//! Collector's contributors (tests/fixtures/stats/README.md says where
//! from). Expected values are worked by hand from the readings with the
//! Docker CLI's formulas, so they are what `docker stats` shows for them.

use serde_json::{json, Value};

use super::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/stats/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[test]
fn cgroup_v1_recorded() {
    let s = compute(&fixture("cgroup-v1.json"), Some(0.5));
    // (2060732849 − 1559565280) / (922050000000 − 920020000000) × 2 × 100
    assert!(close(s.cpu_pct, 501167569.0 / 2030000000.0 * 200.0), "{s:?}");
    assert!(close(s.cpu_pct_limit, s.cpu_pct / 0.5));
    assert_eq!(s.online_cpus, 2.0);
    // usage − total_inactive_file
    assert_eq!(s.mem, (2101248 - 1605632) as f64);
    assert_eq!(s.mem_limit, 67108864.0);
    assert!(close(s.mem_pct, 495616.0 / 67108864.0 * 100.0));
    assert_eq!((s.net_rx, s.net_tx), (736.0, 0.0));
    assert_eq!((s.block_read, s.block_write), (0.0, 0.0));
    assert_eq!(s.pids, 1);
}

#[test]
fn cgroup_v2_recorded_first_reading() {
    let s = compute(&fixture("cgroup-v2.json"), None);
    // The first reading: precpu_stats has no usage and no system_cpu_usage,
    // so the CLI's deltas run from 0: 999478000 / 4836970000000 × 2 CPUs
    // × 100 = 0.0413 % (`docker stats`: 0.04%).
    assert!(close(s.cpu_pct, 999478000.0 / 4836970000000.0 * 2.0 * 100.0), "{s:?}");
    assert!((s.cpu_pct - 0.041326).abs() < 1e-6, "{s:?}");
    assert_eq!(s.online_cpus, 2.0);
    // No limit: the share of the online CPUs.
    assert_eq!(s.cpu_limit, 2.0);
    assert!(close(s.cpu_pct_limit, s.cpu_pct / 2.0));
    // usage − inactive_file (0 here, so usage: 223.8MiB / 256MiB, 87.41%).
    assert_eq!(s.mem, 234647552.0);
    assert_eq!(s.mem_limit, 268435456.0);
    assert!(close(s.mem_pct, 234647552.0 / 268435456.0 * 100.0));
    assert!((s.mem_pct - 87.413).abs() < 1e-3, "{s:?}");
    assert_eq!((s.net_rx, s.net_tx), (1296.0, 0.0));
    // Lowercase ops, one device: 164KiB read.
    assert_eq!((s.block_read, s.block_write), (167936.0, 0.0));
    assert_eq!(s.pids, 1);
}

#[test]
fn cgroup_v2_recorded_page_cache_left_out() {
    let s = compute(&fixture("cgroup-v2-inactive-file.json"), Some(0.5));
    // An idle container: total_usage did not move (10935000 both times)
    // while the host's did (+2020000000), so 0 % (`docker stats`: 0.00%).
    assert_eq!(s.cpu_pct, 0.0, "{s:?}");
    assert_eq!(s.cpu_pct_limit, 0.0);
    assert_eq!(s.cpu_limit, 0.5);
    // cgroup v2 has no total_inactive_file: usage − inactive_file =
    // 2240512 − 1892352 = 348160 (340KiB), of 2063048704 (1.921GiB):
    // 0.0169 % (`docker stats`: 0.02%).
    assert_eq!(s.mem, 348160.0);
    assert_eq!(s.mem_limit, 2063048704.0);
    assert!(close(s.mem_pct, 348160.0 / 2063048704.0 * 100.0));
    assert!((s.mem_pct - 0.016876).abs() < 1e-6, "{s:?}");
    assert_eq!((s.net_rx, s.net_tx), (3608.0, 0.0));
    // Three devices read 1998848 each (7:2, 253:1, 253:2); the CLI sums
    // them all: 5996544 (6MB).
    assert_eq!((s.block_read, s.block_write), (5996544.0, 0.0));
    assert_eq!(s.pids, 1);
}

#[test]
fn online_cpus_missing_counts_per_cpu_usage() {
    // Engines before API 1.27 send no online_cpus: the CLI counts percpu_usage.
    let mut v = fixture("cgroup-v1.json");
    v["cpu_stats"].as_object_mut().unwrap().remove("online_cpus");
    let s = compute(&v, None);
    assert_eq!(s.online_cpus, 2.0);
    assert!(close(s.cpu_pct, 501167569.0 / 2030000000.0 * 200.0));
}

#[test]
fn first_reading_without_previous_is_zero_cpu() {
    // A stopped container or a one-shot reading: no precpu, so no delta.
    let mut v = fixture("cgroup-v2.json");
    v["precpu_stats"] = json!({});
    v["cpu_stats"]["system_cpu_usage"] = json!(0);
    assert_eq!(compute(&v, None).cpu_pct, 0.0);
}

#[test]
fn memory_cache_above_usage_leaves_usage() {
    let v = json!({ "memory_stats": { "usage": 100, "stats": { "total_inactive_file": 200 } } });
    // total_inactive_file ≥ usage falls through to inactive_file (absent: 0).
    assert_eq!(compute(&v, None).mem, 100.0);
    let v = json!({ "memory_stats": { "usage": 100, "stats": { "inactive_file": 100 } } });
    assert_eq!(compute(&v, None).mem, 100.0);
}

#[test]
fn block_io_by_first_letter() {
    let v = json!({ "blkio_stats": { "io_service_bytes_recursive": [
        { "op": "Read", "value": 10 }, { "op": "Write", "value": 20 },
        { "op": "Sync", "value": 30 }, { "op": "Total", "value": 30 }, { "op": "", "value": 5 }
    ] } });
    let s = compute(&v, None);
    assert_eq!((s.block_read, s.block_write), (10.0, 20.0));
}

#[test]
fn cpu_limit_from_host_config() {
    assert_eq!(cpu_limit_of(&json!({ "NanoCpus": 100_000_000 })), Some(0.1));
    assert_eq!(
        cpu_limit_of(&json!({ "CpuQuota": 50_000, "CpuPeriod": 100_000 })),
        Some(0.5)
    );
    assert_eq!(cpu_limit_of(&json!({ "CpuQuota": 25_000 })), Some(0.25));
    assert_eq!(cpu_limit_of(&json!({ "NanoCpus": 0, "CpuQuota": 0 })), None);
}

#[test]
fn start_time_with_fraction() {
    assert_eq!(unix_seconds("0001-01-01T00:00:00Z"), None);
    let t = unix_seconds("2026-11-27T09:43:05.5Z").unwrap();
    assert!(close(t, 1795772585.5), "{t}");
}
