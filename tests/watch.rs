//! The dev loop on the real engine: `orch watch` on a 5-service project
//! and `orch run --watch` on a script with a module, edited while they
//! run; checked by container IDs, start times and file contents.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The watch process; killed (and its project removed) when dropped.
struct Watching {
    child: Child,
    log: std::path::PathBuf,
}

impl Watching {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines starting with `[watch]`.
    fn reports(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.starts_with("[watch]"))
            .map(str::to_string)
            .collect()
    }

    /// Waits until there are more than `n` reports; returns the new ones.
    fn after(&self, n: usize, secs: u64) -> Vec<String> {
        let t = Instant::now();
        loop {
            let r = self.reports();
            if r.len() > n {
                // Let a possible second report of the same batch show.
                std::thread::sleep(Duration::from_millis(300));
                return self.reports()[n..].to_vec();
            }
            assert!(
                t.elapsed() < Duration::from_secs(secs),
                "no new report after {secs}s; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(dir: &Path, args: &[&str]) -> Watching {
    spawn_tool(false, dir, args)
}

/// `spawn` of orch, or (`reference`) of the reference compose.
fn spawn_tool(reference: bool, dir: &Path, args: &[&str]) -> Watching {
    let mut cmd = if reference {
        std::process::Command::new(compose_ref())
    } else {
        orch()
    };
    let log = dir.join("watch.log");
    let file = std::fs::File::create(&log).unwrap();
    let child = cmd
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    Watching { child, log }
}

/// Container ID and start time of each container of `project`.
fn state(project: &str) -> std::collections::BTreeMap<String, (String, String)> {
    project_containers(project)
        .into_iter()
        .map(|(name, id)| {
            let started = docker(&["inspect", "-f", "{{.State.StartedAt}}", &id])
                .trim()
                .to_string();
            (name, (id, started))
        })
        .collect()
}

const LOOP: &str = r#"["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]"#;

fn compose_file(image: &str, mode: &str, build_image: &str) -> String {
    format!(
        r#"services:
  a:
    image: {image}
    command: {LOOP}
    environment:
      MODE: {mode}
  b:
    image: {image}
    command: {LOOP}
    develop:
      watch:
        - path: ./static
          action: sync
          target: /www
          initial_sync: true
          include: ["*.html"]
  c:
    image: {image}
    command: {LOOP}
  d:
    image: {image}
    command: {LOOP}
  e:
    build: ./ctx
    image: {build_image}
    command: {LOOP}
"#
    )
}

#[test]
fn watch_applies_only_what_changed() {
    let image = test_image();
    let project = unique("watch");
    let build_image = format!("{project}-e:dev");
    let dir = tempfile::tempdir().unwrap();
    let _cleanup = ProjectCleanup {
        dir: dir.path().to_path_buf(),
        project: project.clone(),
    };
    struct Rmi(String);
    impl Drop for Rmi {
        fn drop(&mut self) {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", &self.0])
                .output();
        }
    }
    let _rmi = Rmi(build_image.clone());
    let d = dir.path();
    std::fs::create_dir_all(d.join("static")).unwrap();
    std::fs::create_dir_all(d.join("ctx")).unwrap();
    std::fs::write(d.join("static/index.html"), "v1\n").unwrap();
    std::fs::write(
        d.join("ctx/Dockerfile"),
        format!("FROM {image}\nCOPY hello.txt /hello.txt\n"),
    )
    .unwrap();
    std::fs::write(d.join("ctx/hello.txt"), "one\n").unwrap();
    std::fs::write(d.join("ctx/.dockerignore"), "*.tmp\n").unwrap();
    let compose = d.join("compose.yaml");
    std::fs::write(&compose, compose_file(image, "one", &build_image)).unwrap();

    // A 1 s debounce: the 20-save burst below is one batch even on a
    // loaded machine (with 0.1 s a stall between two saves split it).
    let w = spawn(d, &["-p", &project, "watch", "--debounce", "1"]);
    let t = Instant::now();
    while !w.log().contains("[watch] watching") {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "never started watching:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(w.reports()[0].contains("deployed"), "{}", w.log());
    assert!(w.log().contains("[watch] initial sync"), "{}", w.log());
    let c = |s: &str| format!("{project}-{s}-1");
    let before = state(&project);
    assert_eq!(before.len(), 5, "{before:?}");
    // initial_sync: the folder is in the container before any save.
    assert_eq!(docker(&["exec", &c("b"), "cat", "/www/index.html"]), "v1\n");

    // One service's environment: only it is recreated.
    let n = w.reports().len();
    std::fs::write(&compose, compose_file(image, "two", &build_image)).unwrap();
    let r = w.after(n, 60);
    assert!(
        r[0].contains("compose.yaml changed") && r[0].contains(&format!("recreated {}", c("a"))),
        "{r:?}"
    );
    let after = state(&project);
    assert_ne!(after[&c("a")].0, before[&c("a")].0);
    for s in ["b", "c", "d", "e"] {
        assert_eq!(after[&c(s)], before[&c(s)], "{s} untouched");
    }
    let env = docker(&["inspect", "-f", "{{.Config.Env}}", &c("a")]);
    assert!(env.contains("MODE=two"), "{env}");

    // A file in a build context: that image rebuilt, its service recreated.
    let before = after;
    let n = w.reports().len();
    std::fs::write(d.join("ctx/hello.txt"), "two\n").unwrap();
    let r = w.after(n, 120);
    assert!(
        r[0].contains("built e") && r[0].contains(&format!("recreated {}", c("e"))),
        "{r:?}"
    );
    let after = state(&project);
    assert_ne!(after[&c("e")].0, before[&c("e")].0);
    for s in ["a", "b", "c", "d"] {
        assert_eq!(after[&c(s)], before[&c(s)], "{s} untouched");
    }
    assert_eq!(docker(&["exec", &c("e"), "cat", "/hello.txt"]), "two\n");
    // A file .dockerignore excludes: no redeploy at all.
    let n = w.reports().len();
    std::fs::write(d.join("ctx/scratch.tmp"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(w.reports().len(), n, "{}", w.log());

    // A sync rule: the file lands in the running container, no restart.
    let before = after;
    let n = w.reports().len();
    std::fs::write(d.join("static/index.html"), "v2\n").unwrap();
    let r = w.after(n, 30);
    assert!(r[0].contains("synced b"), "{r:?}");
    assert_eq!(docker(&["exec", &c("b"), "cat", "/www/index.html"]), "v2\n");
    assert_eq!(state(&project), before, "nothing recreated or restarted");
    // A file the rule's `include` leaves out is not synced.
    let n = w.reports().len();
    std::fs::write(d.join("static/notes.txt"), "draft\n").unwrap();
    let r = w.after(n, 30);
    assert!(r[0].contains("nothing to do"), "{r:?}");
    let listed = docker(&["exec", &c("b"), "ls", "/www"]);
    assert!(!listed.contains("notes.txt"), "{listed}");

    // An invalid save touches nothing; the next valid one applies.
    let n = w.reports().len();
    std::fs::write(&compose, "services:\n  a: [\n").unwrap();
    let r = w.after(n, 30);
    assert!(r[0].contains("not applied"), "{r:?}");
    assert!(
        w.log().contains("compose.yaml:"),
        "the diagnostic names the file: {}",
        w.log()
    );
    assert_eq!(state(&project), before);
    let n = w.reports().len();
    std::fs::write(&compose, compose_file(image, "three", &build_image)).unwrap();
    let r = w.after(n, 60);
    assert!(r[0].contains(&format!("recreated {}", c("a"))), "{r:?}");

    // 20 saves in a row, well inside the debounce: one redeploy.
    std::thread::sleep(Duration::from_millis(500));
    let n = w.reports().len();
    for i in 0..20 {
        std::fs::write(&compose, compose_file(image, &format!("burst{i}"), &build_image)).unwrap();
    }
    let r = w.after(n, 60);
    std::thread::sleep(Duration::from_millis(3000));
    let r2 = w.reports()[n..].to_vec();
    assert_eq!(r2.len(), 1, "one redeploy for the burst: {r:?} {r2:?}");
    let env = docker(&["inspect", "-f", "{{.Config.Env}}", &c("a")]);
    assert!(env.contains("MODE=burst19"), "the last save wins: {env}");
}

#[test]
fn run_watch_reruns_on_module_edits() {
    let image = test_image();
    let name = unique("runwatch");
    let dir = tempfile::tempdir().unwrap();
    struct Rm(String);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", &self.0])
                .output();
        }
    }
    let _rm = Rm(name.clone());
    std::fs::write(
        dir.path().join("deploy.rhai"),
        format!(
            r#"import "lib/settings" as s;
// Reconcile one container: recreate it only when its setting changed.
let c = container::find("{name}");
if c != () && c.labels["mode"] != s::MODE {{ c.remove(#{{ force: true }}); c = (); }}
if c == () {{
    container::run(#{{ image: "{image}", name: "{name}", command: ["sleep", "600"], labels: #{{ mode: s::MODE }} }});
    print("deployed " + s::MODE);
}} else {{
    print("unchanged " + s::MODE);
}}
"#
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("lib")).unwrap();
    let module = dir.path().join("lib/settings.rhai");
    std::fs::write(&module, "export const MODE = \"one\";\n").unwrap();
    let w = spawn(dir.path(), &["run", "--watch", "deploy.rhai"]);
    w.after(0, 60);
    assert!(w.log().contains("deployed one"), "{}", w.log());
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);

    // Editing the module re-runs the script.
    let n = w.reports().len();
    std::fs::write(&module, "export const MODE = \"two\";\n").unwrap();
    let r = w.after(n, 30);
    assert!(r[0].contains("settings.rhai changed"), "{r:?}");
    assert!(w.log().contains("deployed two"), "{}", w.log());
    let id2 = docker(&["inspect", "-f", "{{.Id}}", &name]);
    assert_ne!(id, id2);

    // An edit that throws: reported, the deployment untouched.
    let n = w.reports().len();
    std::fs::write(&module, "throw \"bad settings\";\n").unwrap();
    let r = w.after(n, 30);
    assert!(r[0].contains("failed"), "{r:?}");
    assert!(w.log().contains("bad settings"), "{}", w.log());
    assert_eq!(docker(&["inspect", "-f", "{{.Id}}", &name]), id2);

    // And the loop goes on.
    let n = w.reports().len();
    std::fs::write(&module, "export const MODE = \"two\";\n").unwrap();
    w.after(n, 30);
    assert!(w.log().contains("unchanged two"), "{}", w.log());
}

/// Dangling images of `project` (what a rebuild leaves behind).
fn dangling(project: &str) -> usize {
    docker(&[
        "images",
        "-q",
        "--filter",
        "dangling=true",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ])
    .lines()
    .count()
}

/// One tool's watch on a service rebuilt on every change of its context:
/// how many of the project's images two rebuilds left dangling.
fn dangling_after_rebuild(reference: bool, extra: &[&str]) -> usize {
    let project = unique("wprune");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let _cleanup = ProjectCleanup {
        dir: d.to_path_buf(),
        project: project.clone(),
    };
    // Removes the built image and whatever the rebuild left dangling.
    struct Images(String);
    impl Drop for Images {
        fn drop(&mut self) {
            let label = format!("label=com.docker.compose.project={}", self.0);
            for id in docker(&["images", "-q", "--filter", &label]).lines() {
                let _ = std::process::Command::new("docker").args(["rmi", "-f", id]).output();
            }
        }
    }
    let _images = Images(project.clone());
    std::fs::create_dir_all(d.join("ctx")).unwrap();
    std::fs::write(
        d.join("ctx/Dockerfile"),
        format!("FROM {}\nCOPY hello.txt /hello.txt\n", test_image()),
    )
    .unwrap();
    std::fs::write(d.join("ctx/hello.txt"), "one\n").unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        format!("services:\n  app:\n    build: ./ctx\n    command: {LOOP}\n    develop:\n      watch:\n        - path: ./ctx\n          action: rebuild\n"),
    )
    .unwrap();
    let mut args = vec!["-p", project.as_str(), "watch"];
    args.extend_from_slice(extra);
    let _w = spawn_tool(reference, d, &args);
    let tag = format!("{project}-app");
    let id = || docker(&["images", "-q", &tag]).trim().to_string();
    let running = || project_containers(&project).len() == 1;
    let t = Instant::now();
    while id().is_empty() || !running() {
        assert!(t.elapsed() < Duration::from_secs(120), "never up:\n{}", _w.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Two rebuilds, each once the one before has recreated the container.
    for text in ["two\n", "three\n"] {
        // Both tools start watching once the project is up; give it a moment.
        std::thread::sleep(Duration::from_secs(3));
        let before = id();
        let container = project_containers(&project);
        std::fs::write(d.join("ctx/hello.txt"), text).unwrap();
        let t = Instant::now();
        while id() == before || id().is_empty() || project_containers(&project) == container || !running() {
            assert!(t.elapsed() < Duration::from_secs(120), "never rebuilt:\n{}", _w.log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    dangling(&project)
}

#[test]
fn watch_prunes_what_a_rebuild_leaves_as_compose_does() {
    for extra in [&[][..], &["--prune=false"][..]] {
        let (o, c) = (
            dangling_after_rebuild(false, extra),
            dangling_after_rebuild(true, extra),
        );
        assert_eq!(
            o, c,
            "dangling images after a rebuild with {extra:?}: orch {o}, compose {c}"
        );
        // Not a prune both skipped: compose prunes after a build, before
        // the recreate, so the image in use stays: one left after two
        // rebuilds, both replaced images with --prune=false.
        assert_eq!(o, if extra.is_empty() { 1 } else { 2 }, "{extra:?}: {o} dangling");
    }
}

/// What one tool's `up --watch` did: what the container read back, the
/// first log line showing it, the watch's own lines, the exit code after
/// Ctrl-C and whether the container still runs.
#[derive(Debug, PartialEq)]
struct UpWatch {
    read: String,
    logged: Option<String>,
    watch_lines: Vec<String>,
    code: Option<i32>,
    running: bool,
}

/// One tool's `up --watch` on a service with a sync rule: the file edited
/// while it runs, then Ctrl-C.
fn up_watch(reference: bool) -> UpWatch {
    let project = unique("wup");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let _cleanup = ProjectCleanup {
        dir: d.to_path_buf(),
        project: project.clone(),
    };
    std::fs::create_dir_all(d.join("src")).unwrap();
    std::fs::write(
        d.join("compose.yaml"),
        format!(
            "services:\n  app:\n    image: {}\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do cat /www/x 2>/dev/null; sleep 1; done\"]\n    develop:\n      watch:\n        - path: ./src\n          action: sync\n          target: /www\n",
            test_image()
        ),
    )
    .unwrap();
    let mut w = spawn_tool(reference, d, &["-p", &project, "up", "--watch"]);
    let t = Instant::now();
    while !(w.log().contains("Attaching to") && project_containers(&project).len() == 1) {
        assert!(t.elapsed() < Duration::from_secs(60), "never attached:\n{}", w.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Both start watching right after attaching; give it a moment.
    std::thread::sleep(Duration::from_secs(3));
    std::fs::write(d.join("src/x"), "synced-by-watch\n").unwrap();
    let id = project_containers(&project).into_values().next().unwrap();
    // The file is not there until the first sync: a failed cat reads "".
    let read = || {
        let out = std::process::Command::new("docker")
            .args(["exec", &id, "cat", "/www/x"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let t = Instant::now();
    while read() != "synced-by-watch" || !w.log().contains("| synced-by-watch") {
        assert!(t.elapsed() < Duration::from_secs(60), "never synced:\n{}", w.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    let read = read();
    let log = w.log();
    let logged = log
        .lines()
        .find(|l| l.ends_with("| synced-by-watch"))
        .map(str::to_string);
    // compose paints the watch's lines green even without colours.
    let watch_lines = log
        .lines()
        .filter(|l| l.contains('⦿'))
        .map(|l| l.replace("\x1b[92m", "").replace("\x1b[0m", ""))
        .collect();
    unsafe { libc::kill(w.child.id() as i32, libc::SIGINT) };
    let t = Instant::now();
    let code = loop {
        if let Some(s) = w.child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "did not stop after Ctrl-C:\n{}",
            w.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let running = docker(&["inspect", "-f", "{{.State.Running}}", &id]).trim() == "true";
    UpWatch {
        read,
        logged,
        watch_lines,
        code,
        running,
    }
}

#[test]
fn up_watch_syncs_streams_and_stops_as_compose_does() {
    let (o, c) = (up_watch(false), up_watch(true));
    assert_eq!(o, c, "orch's up --watch (left) against compose's");
    assert_eq!(o.read, "synced-by-watch");
    assert_eq!(o.code, Some(130));
    assert!(!o.running);
    assert_eq!(o.watch_lines.len(), 2, "{:?}", o.watch_lines);

    // No service to watch: compose's error, after the containers started.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        format!("services:\n  app:\n    image: {}\n    command: {LOOP}\n", test_image()),
    )
    .unwrap();
    let run = |reference: bool| {
        let project = unique("wupn");
        let _cleanup = ProjectCleanup {
            dir: dir.path().to_path_buf(),
            project: project.clone(),
        };
        let mut cmd = if reference {
            std::process::Command::new(compose_ref())
        } else {
            orch()
        };
        let out = cmd
            .args(["-p", &project, "up", "--watch"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        (out.status.code(), err, project_containers(&project).len())
    };
    assert_eq!(run(false), run(true), "up --watch with nothing to watch");
}
