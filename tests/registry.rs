//! push, pull's policies and up/create/run --pull against a real registry
//! (tests/common/registry.rs), beside the reference Docker Compose: both
//! tools run the same project file, each under its own project name and
//! its own registry namespace (`${REG}/${NS}/…`), and must agree on exit
//! codes, on what the registry then holds (its HTTP API) and on what the
//! engine holds (images present, their IDs, containers made).

mod common;
/// `publish`, over HTTP and HTTPS.
#[path = "registry/publish.rs"]
mod publish;

use std::path::Path;
use std::process::{Command, Output};

use common::registry::Registry;
use common::*;

/// One registry, one project folder, and the two namespaces (also the
/// project names): orch's and the reference's.
struct Case {
    // Dropped first: containers and networks, then the images, then the registry.
    _cleanup: (Cleanup, Cleanup),
    _images: ImagesUnder,
    dir: tempfile::TempDir,
    reg: Registry,
    ns: [String; 2],
    /// Extra environment for both tools (DOCKER_CONFIG).
    env: Vec<(String, String)>,
}

/// Removes every image tag under the registry's address and the given
/// namespaces when dropped.
struct ImagesUnder(Vec<String>);

impl Drop for ImagesUnder {
    fn drop(&mut self) {
        // Tags, then the digest references a pull leaves (`REPO@sha256:…`,
        // listed with a `<none>` tag once the tags are gone).
        for format in ["{{.Repository}}:{{.Tag}}", "{{.Repository}}@{{.Digest}}"] {
            let out = Command::new("docker")
                .args(["images", "--digests", "--format", format])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let ours = |i: &&str| self.0.iter().any(|p| i.starts_with(p.as_str())) && !i.contains("<none>");
            for image in out.lines().filter(ours) {
                let _ = Command::new("docker").args(["rmi", "-f", image]).output();
            }
        }
    }
}

const ORCH: usize = 0;
const COMPOSE: usize = 1;

/// What docker-registry says when two pushes race on one blob (see
/// `Case::run`).
const REGISTRY_RACES: [&str; 3] = [
    "unexpected HTTP status: 500",
    "digest invalid",
    "blob unknown to registry",
];

impl Case {
    fn new(tag: &str, yaml: &str) -> Case {
        Self::on(Registry::start(), tag, yaml)
    }

    fn on(reg: Registry, tag: &str, yaml: &str) -> Case {
        test_image();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), yaml).unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(
            dir.path().join("app/Dockerfile"),
            format!("FROM {TEST_IMAGE}\nRUN echo built > /built\n"),
        )
        .unwrap();
        let ns = [unique(&format!("{tag}-o")), unique(&format!("{tag}-c"))];
        Case {
            _cleanup: (Cleanup(ns[0].clone()), Cleanup(ns[1].clone())),
            _images: ImagesUnder(ns.iter().map(|n| format!("{}/{n}/", reg.addr)).collect()),
            dir,
            reg,
            ns,
            env: Vec::new(),
        }
    }

    /// `REG/NS/name` for tool `t`.
    fn image(&self, t: usize, name: &str) -> String {
        format!("{}/{}/{name}", self.reg.addr, self.ns[t])
    }

    /// Runs `args` with tool `t`. docker-registry's filesystem storage
    /// answers 500 at times when two pushes mount the same blob into one
    /// repository at once (compose pushes a service's tags in parallel),
    /// or, the same race seen later, refuses the manifest: "digest
    /// invalid", "blob unknown to registry" for a blob the push had just
    /// mounted (a CI run, compose's side). That is the registry's fault,
    /// not the tool's, so such a run is tried again, up to twice,
    /// whichever tool it hit; a tool that always sends a bad manifest
    /// still fails.
    fn run(&self, t: usize, args: &[&str]) -> Output {
        let mut tries = 0;
        loop {
            let mut c = if t == ORCH { orch() } else { Command::new(compose_ref()) };
            c.args(["-p", &self.ns[t]])
                .args(args)
                .current_dir(self.dir.path())
                .env("REG", &self.reg.addr)
                .env("NS", &self.ns[t])
                .envs(self.env.iter().map(|(k, v)| (k, v)));
            let out = c.output().unwrap();
            let registry_fault = [stdout(&out), stderr(&out)]
                .iter()
                .any(|s| REGISTRY_RACES.iter().any(|race| s.contains(race)));
            if out.status.success() || !registry_fault || tries == 2 {
                return out;
            }
            tries += 1;
            eprintln!(
                "{args:?} (tool {t}): the registry's push race, trying again; its log:\n{}",
                self.reg.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
    }

    /// Runs `args` with both tools; their exit codes must agree (and be
    /// `want`). Returns the two outputs.
    fn both(&self, args: &[&str], want: i32) -> [Output; 2] {
        let o = self.run(ORCH, args);
        let c = self.run(COMPOSE, args);
        let show = |out: &Output| format!("exit {:?}\n{}{}", out.status.code(), stdout(out), stderr(out));
        assert_eq!(
            (o.status.code(), c.status.code()),
            (Some(want), Some(want)),
            "{args:?}\norch: {}\ncompose: {}",
            show(&o),
            show(&c)
        );
        [o, c]
    }

    /// `f(tool)` for both tools: the state each one left must be the same.
    fn same<T: PartialEq + std::fmt::Debug>(&self, what: &str, f: impl Fn(usize) -> T) -> T {
        let (o, c) = (f(ORCH), f(COMPOSE));
        assert_eq!(o, c, "{what}: orch (left) and compose (right) differ");
        o
    }

    /// The tags the registry holds of `name` in tool `t`'s namespace.
    fn tags(&self, t: usize, name: &str) -> Vec<String> {
        self.reg.tags(&format!("{}/{name}", self.ns[t]))
    }

    /// Tags `image` as `REG/NS/name` for both tools.
    fn tag_both(&self, image: &str, name: &str) {
        for t in [ORCH, COMPOSE] {
            docker(&["tag", image, &self.image(t, name)]);
        }
    }

    /// Pushes the test image as `REG/NS/name` for both tools with the
    /// docker CLI, and removes the local tag again.
    fn seed(&self, name: &str) {
        for t in [ORCH, COMPOSE] {
            let r = self.image(t, name);
            docker(&["tag", TEST_IMAGE, &r]);
            docker(&["push", "-q", &r]);
            docker(&["rmi", &r]);
        }
    }

    /// The ID of tool `t`'s local `REG/NS/name`, None when absent.
    fn id(&self, t: usize, name: &str) -> Option<String> {
        image_id(&self.image(t, name))
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The local image's ID, or None when the engine lacks it.
fn image_id(name: &str) -> Option<String> {
    let out = Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Id}}", name])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// An image other than the test image (a label on top), to stand for a
/// stale local copy of a tag the registry holds.
fn variant(case: &Case) -> String {
    let dir = case.path().join("variant");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Dockerfile"), format!("FROM {TEST_IMAGE}\nLABEL stale=1\n")).unwrap();
    let name = case.image(ORCH, "variant:1");
    let out = Command::new("docker")
        .args(["build", "-q", "-t", &name])
        .arg(&dir)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "variant build: {}", stderr(&out));
    image_id(&name).unwrap()
}

const PUSH: &str = r#"
services:
  app:
    build:
      context: ./app
      tags: ["${REG}/${NS}/app:extra"]
    image: ${REG}/${NS}/app:v1
  lib:
    image: ${REG}/${NS}/lib:v1
  web:
    build: ./app
    image: ${REG}/${NS}/web:v1
    depends_on: [app]
"#;

#[test]
fn push_as_compose() {
    let case = Case::new("regpush", PUSH);
    for name in ["app:v1", "app:extra", "lib:v1", "web:v1"] {
        case.tag_both(TEST_IMAGE, name);
    }
    case.both(&["push", "-q", "web"], 0);
    let state = |t: usize| (case.tags(t, "web"), case.tags(t, "app"));
    assert_eq!(case.same("push web", state), (vec!["v1".to_string()], vec![]));

    case.both(&["push", "--include-deps", "web"], 0);
    let pushed = case.same("push --include-deps web", state);
    assert_eq!(
        pushed.1,
        ["extra", "v1"],
        "app and its build tag pushed as a dependency"
    );

    // lib has no build section: compose skips it, and so must orch.
    case.both(&["push"], 0);
    assert_eq!(case.same("lib pushed", |t| case.tags(t, "lib")), Vec::<String>::new());
    // The same image content: the same manifest in both namespaces.
    let digest = case.same("app digest", |t| case.reg.digest(&format!("{}/app", case.ns[t]), "v1"));
    assert!(digest.is_some_and(|d| d.starts_with("sha256:")));

    // An image the engine lacks: a failure, unless ignored.
    for t in [ORCH, COMPOSE] {
        docker(&["rmi", &case.image(t, "web:v1")]);
    }
    case.both(&["push", "web"], 1);
    case.both(&["push", "--ignore-push-failures", "web"], 0);
}

const PULL: &str = r#"
services:
  base:
    image: ${REG}/${NS}/base:v1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
  latest:
    image: ${REG}/${NS}/base:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
  built:
    build: ./app
    image: ${REG}/${NS}/built:v1
    depends_on: [base]
"#;

#[test]
fn pull_policies_as_compose() {
    let case = Case::new("regpull", PULL);
    case.seed("base:v1");
    case.seed("base:latest");

    // Buildable and ignored: nothing pulled, nothing failed.
    case.both(&["pull", "--ignore-buildable", "built"], 0);
    assert!(!case.same("built present", |t| case.id(t, "built:v1").is_some()));
    // Not in the registry and not ignored: the pull fails (the image can
    // be built, but pull still reports the failure).
    case.both(&["pull", "built"], 1);
    // --include-deps pulls the dependency too.
    case.both(&["pull", "--include-deps", "--ignore-buildable", "built"], 0);
    assert!(case.same("base pulled as a dependency", |t| case.id(t, "base:v1").is_some()));

    // A stale local copy: `missing` keeps it, `always` replaces it.
    let stale = variant(&case);
    let fresh = image_id(TEST_IMAGE).unwrap();
    case.tag_both(&stale, "base:v1");
    case.both(&["pull", "--policy", "missing", "base"], 0);
    assert_eq!(
        case.same("base after --policy missing", |t| case.id(t, "base:v1")),
        Some(stale.clone())
    );
    case.both(&["pull", "--policy", "always", "base"], 0);
    assert_eq!(
        case.same("base after --policy always", |t| case.id(t, "base:v1")),
        Some(fresh.clone())
    );
    // A `latest` tag counts as missing even when present (compose's
    // imageAlreadyPresent), so --policy missing pulls it.
    case.tag_both(&stale, "base:latest");
    case.both(&["pull", "--policy", "missing", "latest"], 0);
    assert_eq!(
        case.same("latest after --policy missing", |t| case.id(t, "base:latest")),
        Some(fresh)
    );
}

/// The project's containers of `service` and the image IDs they run.
fn containers_of(project: &str, service: &str) -> Vec<String> {
    let mut out: Vec<String> = docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
        "--format",
        "{{.Image}}",
    ])
    .lines()
    .map(|l| l.replace(project, "NS"))
    .collect();
    out.sort();
    out
}

/// The image ID the service's one container was made from (its
/// `com.docker.compose.image` label, and the engine's own record agrees).
fn running_image(project: &str, service: &str) -> Option<String> {
    let out = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ]);
    let id = out.lines().next()?;
    let got = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"com.docker.compose.image\"}} {{.Image}}",
        id,
    ]);
    let (label, image) = got.trim().split_once(' ')?;
    assert_eq!(label, image, "{project}: the image label is not the container's image");
    Some(image.to_string())
}

#[test]
fn up_create_run_pull_as_compose() {
    let case = Case::new("regup", PULL);
    case.seed("base:v1");
    case.seed("base:latest");
    let made = |t: usize| containers_of(&case.ns[t], "base").len();

    // never, and the image is missing: compose's failure, no container.
    case.both(&["up", "-d", "--pull", "never", "base"], 1);
    assert_eq!(case.same("containers after --pull never", made), 0);
    assert_eq!(case.same("base after --pull never", |t| case.id(t, "base:v1")), None);
    // An unknown policy is refused before anything is made.
    case.both(&["create", "--pull", "sometimes", "base"], 1);
    assert_eq!(case.same("containers after a bad --pull", made), 0);
    // missing pulls it, and the container runs it.
    case.both(&["up", "-d", "--pull", "missing", "base"], 0);
    let fresh = image_id(TEST_IMAGE);
    assert_eq!(
        case.same("base after --pull missing", |t| case.id(t, "base:v1")),
        fresh.clone()
    );
    assert_eq!(case.same("containers after --pull missing", made), 1);

    // The container records the image it runs (compose's digest label).
    let label = |t: usize| running_image(&case.ns[t], "base");
    assert_eq!(case.same("image label after --pull missing", label), fresh.clone());

    // always replaces a stale local copy, and the container running the
    // stale image is recreated from the pulled one.
    let stale = variant(&case);
    case.tag_both(&stale, "base:v1");
    case.both(&["up", "-d", "--force-recreate", "--pull", "never", "base"], 0);
    assert_eq!(case.same("image label on the stale copy", label), Some(stale.clone()));
    case.both(&["up", "-d", "--pull", "always", "base"], 0);
    assert_eq!(
        case.same("base after up --pull always", |t| case.id(t, "base:v1")),
        fresh.clone()
    );
    assert_eq!(case.same("image label after up --pull always", label), fresh.clone());
    case.tag_both(&stale, "base:v1");
    case.both(&["create", "--pull", "always", "base"], 0);
    assert_eq!(
        case.same("base after create --pull always", |t| case.id(t, "base:v1")),
        fresh.clone()
    );

    // run --pull: the one-off's image pulled first (latest is not here yet).
    case.both(&["run", "--rm", "--no-deps", "--pull", "missing", "latest", "true"], 0);
    assert_eq!(
        case.same("latest after run --pull missing", |t| case.id(t, "base:latest")),
        fresh
    );
    case.both(&["down", "-t", "0"], 0);
}

#[test]
fn build_push_as_compose() {
    let case = Case::new("regbuild", PULL);
    case.both(&["build", "--push", "built"], 0);
    let tags = case.same("built pushed", |t| case.tags(t, "built"));
    assert_eq!(tags, ["v1"]);
    // A pushed image can be pulled back after the local copy is gone.
    for t in [ORCH, COMPOSE] {
        docker(&["rmi", &case.image(t, "built:v1")]);
    }
    case.both(&["pull", "built"], 0);
    assert!(case.same("built pulled back", |t| image_id(&case.image(t, "built:v1")).is_some()));
}

const CONFIG: &str = r#"
services:
  pinned:
    image: ${REG}/${NS}/base:v1
    environment: [X=1]
  untagged:
    image: ${REG}/${NS}/base
  built:
    build: ./app
"#;

#[test]
fn config_image_digests_as_compose() {
    let case = Case::new("regcfg", CONFIG);
    case.seed("base:v1");
    case.seed("base:latest");
    for args in [
        &["config", "--resolve-image-digests"][..],
        &["config", "--lock-image-digests"],
        &["config", "--lock-image-digests", "--format", "json"],
        &["config", "--resolve-image-digests", "--format", "json"],
    ] {
        let [o, c] = case.both(args, 0);
        let text = |t: usize, out: &Output| stdout(out).replace(&case.ns[t], "NS").trim_end().to_string();
        assert_eq!(text(ORCH, &o), text(COMPOSE, &c), "{args:?}");
        let digest = case.reg.digest(&format!("{}/base", case.ns[ORCH]), "v1").unwrap();
        assert!(
            stdout(&o).contains(&format!("/base:v1@{digest}")),
            "{args:?}: {}",
            stdout(&o)
        );
    }
    // A tag the registry lacks: both fail.
    std::fs::write(
        case.path().join("compose.yaml"),
        CONFIG.replace("base:v1", "base:nosuch"),
    )
    .unwrap();
    case.both(&["config", "--resolve-image-digests"], 1);
}

#[test]
fn push_and_pull_with_the_cli_credentials() {
    let mut case = Case::on(Registry::start_with_auth(), "regauth", PUSH);
    for name in ["app:v1", "app:extra"] {
        case.tag_both(TEST_IMAGE, name);
    }
    // No credentials: the registry refuses both.
    let none = tempfile::tempdir().unwrap();
    case.env = vec![("DOCKER_CONFIG".into(), none.path().display().to_string())];
    case.both(&["push", "app"], 1);
    assert_eq!(
        case.same("pushed without credentials", |t| case.tags(t, "app")),
        Vec::<String>::new()
    );
    // The CLI's config file has them: both push, and pull back.
    let config = case.reg.cli_config();
    case.env = vec![("DOCKER_CONFIG".into(), config.path().display().to_string())];
    case.both(&["push", "app"], 0);
    assert_eq!(
        case.same("pushed with credentials", |t| case.tags(t, "app")),
        ["extra", "v1"]
    );
    for t in [ORCH, COMPOSE] {
        docker(&["rmi", &case.image(t, "app:v1")]);
    }
    case.env = vec![("DOCKER_CONFIG".into(), none.path().display().to_string())];
    case.both(&["pull", "app"], 1);
    case.env = vec![("DOCKER_CONFIG".into(), config.path().display().to_string())];
    case.both(&["pull", "app"], 0);
    assert!(case.same("pulled with credentials", |t| case.id(t, "app:v1").is_some()));
    // publish talks to the registry itself, with the same credentials.
    let repo = format!("{}/shared/pub:1", case.reg.addr);
    for (dir, want) in [(&none, 1), (&config, 0)] {
        case.env = vec![
            ("DOCKER_CONFIG".into(), dir.path().display().to_string()),
            ("__TEST__INSECURE__REGISTRY__".into(), "1".into()),
        ];
        case.both(&["publish", "-y", &repo], want);
    }
    assert_eq!(case.reg.tags("shared/pub"), ["1"]);
}
