//! The metrics primitives against `docker stats --no-stream` on the same
//! containers: limits and process counts exactly, memory and I/O to the
//! precision docker prints, CPU within what two readings a second apart
//! can differ by (both of a container held at its `--cpus 0.1` limit).

mod common;

use std::time::Instant;

use common::*;
use serde_json::Value;

/// go-units' sizes as docker prints them ("336KiB", "1.2kB", "32MiB").
fn bytes(s: &str) -> f64 {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().unwrap_or_else(|_| panic!("size {s:?}"));
    let m = match unit {
        "B" | "" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other:?} in {s:?}"),
    };
    n * m
}

fn pair(s: &str) -> (f64, f64) {
    let (a, b) = s.split_once(" / ").expect("a / b");
    (bytes(a), bytes(b))
}

fn pct(s: &str) -> f64 {
    s.trim_end_matches('%').parse().unwrap()
}

/// Within the rounding of docker's 4 significant digits (or 1 byte).
fn printed_as(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= (theirs * 0.001).max(1.0)
}

fn orch_json(script: &str) -> Value {
    let (_dir, path) = common::script(script);
    let out = run_script(&path, &[]);
    assert!(out.status.success(), "orch: {}", stderr(&out));
    serde_json::from_str(stdout(&out).lines().last().unwrap()).unwrap()
}

#[test]
fn container_stats_match_docker_stats() {
    let img = test_image();
    let name = unique("stats");
    let _c = Cleanup(name.clone());
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--cpus",
        "0.1",
        "-m",
        "32m",
        img,
        "sh",
        "-c",
        "while :; do :; done",
    ]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let t = Instant::now();
    let ours = orch_json(&format!("print(to_json(container::get(\"{name}\").stats()));"));
    let orch_took = t.elapsed();
    let t = Instant::now();
    let theirs: Value =
        serde_json::from_str(&docker(&["stats", "--no-stream", "--format", "{{json .}}", &name])).unwrap();
    let docker_took = t.elapsed();
    eprintln!("orch {orch_took:?} (whole process), docker stats {docker_took:?}\n{ours}\n{theirs}");

    let f = |k: &str| ours[k].as_f64().unwrap_or_else(|| panic!("{k} in {ours}"));
    let (mem, limit) = pair(theirs["MemUsage"].as_str().unwrap());
    assert_eq!(f("mem_limit"), limit, "the memory limit is exact");
    assert_eq!(f("mem_limit"), 32.0 * 1024.0 * 1024.0);
    // Live memory: two readings a second apart may differ by a few pages.
    assert!((f("mem") - mem).abs() <= 64.0 * 1024.0, "mem {} vs {mem}", f("mem"));
    assert!((f("mem_pct") - pct(theirs["MemPerc"].as_str().unwrap())).abs() < 0.3);
    assert_eq!(
        ours["pids"].as_i64().unwrap().to_string(),
        theirs["PIDs"].as_str().unwrap()
    );
    // Counters only grow, and docker read them after orch (the network
    // sees the odd IPv6 solicitation in between).
    let (rx, tx) = pair(theirs["NetIO"].as_str().unwrap());
    let (br, bw) = pair(theirs["BlockIO"].as_str().unwrap());
    for (k, v) in [("net_rx", rx), ("net_tx", tx), ("block_read", br), ("block_write", bw)] {
        assert!(f(k) <= v * 1.001 + 1.0 && v - f(k) < 2000.0, "{k}: {} vs {v}", f(k));
    }
    // Held at its limit: 10 % of one core, 100 % of its own limit.
    let docker_cpu = pct(theirs["CPUPerc"].as_str().unwrap());
    assert!(
        (f("cpu_pct") - docker_cpu).abs() < 2.0,
        "cpu {} vs {docker_cpu}",
        f("cpu_pct")
    );
    assert!((f("cpu_pct") - 10.0).abs() < 2.0);
    assert_eq!(f("cpu_limit"), 0.1);
    assert!((f("cpu_pct_limit") - 100.0).abs() < 20.0);
    assert_eq!(ours["running"], true);
    assert_eq!(ours["name"], name.as_str());
    assert!(ours["started"].as_f64().unwrap() > 1.7e9);
}

#[test]
fn idle_container_and_stream() {
    let img = test_image();
    let name = unique("stats-idle");
    let _c = Cleanup(name.clone());
    docker(&["run", "-d", "--name", &name, img, "sleep", "300"]);
    // Three streamed readings, then the callback stops the stream.
    let out = orch_json(&format!(
        r#"let n = 0; let cpu = [];
        container::stats_stream(container::get("{name}"), |s| {{ n += 1; cpu.push(s.cpu_pct); n < 3 }});
        print(to_json(#{{ n: n, cpu: cpu, one: container::get("{name}").stats() }}));"#
    ));
    assert_eq!(out["n"], 3, "{out}");
    let one = &out["one"];
    assert!(one["cpu_pct"].as_f64().unwrap() < 5.0, "{one}");
    // No CPU limit: the limit is the engine's online CPUs.
    assert_eq!(one["cpu_limit"], one["online_cpus"]);
    let theirs: Value =
        serde_json::from_str(&docker(&["stats", "--no-stream", "--format", "{{json .}}", &name])).unwrap();
    let (_, limit) = pair(theirs["MemUsage"].as_str().unwrap());
    assert!(printed_as(one["mem_limit"].as_f64().unwrap(), limit));
    assert_eq!(
        one["pids"].as_i64().unwrap().to_string(),
        theirs["PIDs"].as_str().unwrap()
    );
}

#[test]
fn compose_stats_reads_every_replica_of_one_service() {
    let img = test_image();
    let project = unique("cstats");
    let _c = Cleanup(project.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!(
            "services:\n  web:\n    image: {img}\n    command: sleep 300\n    scale: 2\n    cpus: 0.2\n  other:\n    image: {img}\n    command: sleep 300\n"
        ),
    )
    .unwrap();
    let up = orch()
        .args(["-p", &project, "up", "-d"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(up.status.success(), "{}", stderr(&up));
    let out = orch_json(&format!(r#"print(to_json(compose::stats("{project}", "web")));"#));
    let list = out.as_array().unwrap();
    assert_eq!(list.len(), 2, "{out}");
    for (i, s) in list.iter().enumerate() {
        assert_eq!(s["number"], i as i64 + 1);
        assert_eq!(s["name"], format!("{project}-web-{}", i + 1).as_str());
        assert_eq!(s["cpu_limit"], 0.2);
        assert!(s["error"].is_null());
    }
    // The whole project at once, each sample naming its service.
    let all = orch_json(&format!(r#"print(to_json(compose::stats("{project}")));"#));
    let names: Vec<(&str, i64)> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["service"].as_str().unwrap(), s["number"].as_i64().unwrap()))
        .collect();
    assert_eq!(names, [("other", 1), ("web", 1), ("web", 2)]);
    let none = orch_json(&format!(r#"print(to_json(compose::stats("{project}", "nothing")));"#));
    assert_eq!(none, serde_json::json!([]));
    let down = orch()
        .args(["-p", &project, "down", "-t", "0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", stderr(&down));
}
