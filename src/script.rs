//! The Rhai engine orch runs scripts in, and running one.
//!
//! Everything about the language set-up lives here: limits (so a runaway
//! script stops with a message instead of hanging), imports (relative to
//! the importing file; `stdlib/...` from the embedded commands), output,
//! and the primitives from [`crate::api`]. Scripts see nothing of the host
//! beyond those primitives.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rhai::{Dynamic, Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared, AST};
type SharedModule = Shared<Module>;

use crate::api::Namespaces;
use crate::bridge::{self, Phase, INTERRUPT_GRACE_MS, INTERRUPT_NOTICE};
use crate::diag;

mod namespaces;

pub use crate::source::{Limits, Source, MAX_CALL_DEPTH};

/// Resolves `import` paths: `stdlib/...` to the embedded commands,
/// anything else relative to the importing file. Records every file it
/// loads, so the watch loop knows what a deployment was made from.
struct Imports {
    base: Option<PathBuf>,
    cache: Mutex<HashMap<String, SharedModule>>,
    loaded: Arc<Mutex<Vec<PathBuf>>>,
    /// Modules being evaluated, outermost first: an import of one of them
    /// is a cycle (which would otherwise recurse until the stack overflows).
    resolving: Mutex<Vec<String>>,
}

/// Most modules importing each other in a chain (a.rhai imports b.rhai
/// imports ...): each level is a nested evaluation on the script thread.
const MAX_IMPORT_DEPTH: usize = 64;

/// Pops the module off the resolving stack however its evaluation ends.
struct Resolving<'a>(&'a Mutex<Vec<String>>);

impl Drop for Resolving<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().pop();
    }
}

impl Imports {
    /// Marks `name` as being evaluated, or says why it cannot be: it is
    /// already being evaluated (a cycle, named in full), or the chain is
    /// too long.
    fn enter(&self, name: &str, importer: Option<&str>, pos: Position) -> Result<Resolving<'_>, Box<EvalAltResult>> {
        let mut stack = self.resolving.lock().unwrap();
        if let Some(i) = stack.iter().position(|m| m == name) {
            let mut chain: Vec<&str> = stack[i..].iter().map(String::as_str).collect();
            chain.push(name);
            let msg = format!("import cycle: {}", chain.join(" imports "));
            return Err(EvalAltResult::ErrorRuntime(msg.into(), pos).into());
        }
        if stack.len() >= MAX_IMPORT_DEPTH {
            let msg = format!(
                "imports nested more than {MAX_IMPORT_DEPTH} deep (at {} importing {name})",
                importer.unwrap_or("the script")
            );
            return Err(EvalAltResult::ErrorRuntime(msg.into(), pos).into());
        }
        stack.push(name.to_string());
        Ok(Resolving(&self.resolving))
    }
}

impl ModuleResolver for Imports {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let with_ext = if path.ends_with(".rhai") {
            path.to_string()
        } else {
            format!("{path}.rhai")
        };
        let (name, text) = if let Some(rel) = with_ext.strip_prefix("stdlib/") {
            match crate::stdlib::load(rel) {
                Ok(s) => (s.name, s.text),
                Err(_) => return Err(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos).into()),
            }
        } else {
            // Relative to the importing file's folder, else the base.
            let from = source
                .filter(|s| !s.starts_with("stdlib/"))
                .and_then(|s| Path::new(s).parent().map(Path::to_path_buf))
                .or_else(|| self.base.clone())
                .unwrap_or_default();
            let file = from.join(&with_ext);
            crate::api::host_access(&format!("import {path:?}"))
                .map_err(|e| EvalAltResult::ErrorInModule(path.to_string(), e, pos))?;
            match std::fs::read_to_string(&file) {
                Ok(t) => {
                    self.loaded.lock().unwrap().push(file.clone());
                    (file.display().to_string(), t)
                }
                Err(_) => return Err(EvalAltResult::ErrorModuleNotFound(file.display().to_string(), pos).into()),
            }
        };
        if let Some(m) = self.cache.lock().unwrap().get(&name) {
            return Ok(m.clone());
        }
        let _resolving = self.enter(&name, source, pos)?;
        let mut ast = engine
            .compile(&text)
            .map_err(|e| EvalAltResult::ErrorInModule(name.clone(), Box::new(e.into()), pos))?;
        ast.set_source(name.clone());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| EvalAltResult::ErrorInModule(name.clone(), e, pos))?;
        let shared: SharedModule = module.into();
        self.cache.lock().unwrap().insert(name, shared.clone());
        Ok(shared)
    }
}

/// The engine [`prebuild`] started building, taken by the first [`engine`].
static PREBUILT: Mutex<Option<std::thread::JoinHandle<(Engine, Namespaces)>>> = Mutex::new(None);

/// Starts building the engine on a thread of its own, while the caller
/// parses the command line: building it (Rhai's packages and the
/// primitives) is about as much CPU as that parse, and a one-shot command
/// such as `orch service ls` waits for both (it is measured against the
/// docker CLI, bench/swarm.sh). `script`: the stdlib command the command
/// line seems to run, whose namespaces are all the engine gets; the first
/// [`engine`] takes it if the script it runs needs no more.
pub fn prebuild(script: Option<&str>) {
    let script = script.map(str::to_string);
    let build = move || {
        let namespaces = script
            .and_then(|rel| crate::stdlib::load(&rel).ok())
            .map_or(Namespaces::All, |s| namespaces::of(&s.text));
        (bare_engine(&namespaces), namespaces)
    };
    if let Ok(handle) = std::thread::Builder::new().name("prebuild".into()).spawn(build) {
        *PREBUILT.lock().unwrap() = Some(handle);
    }
}

/// Frees the engine [`prebuild`] made when this process runs no script
/// itself (`orch run --watch` runs each round as a child, for hours).
pub fn discard_prebuilt() {
    let handle = PREBUILT.lock().unwrap().take();
    if let Some(h) = handle {
        drop(h.join());
    }
}

/// The engine with the primitives of `namespaces` registered and the
/// hooks every run shares, without this run's limits and imports.
fn bare_engine(namespaces: &Namespaces) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_expr_depths(128, 64);
    // Rhai interns strings in a cache of 256 that, once full, is scanned
    // whole at every new string: engine objects hold thousands, and the
    // scans were the script thread's largest single cost (perf on
    // `service ls` of 50 services, bench/README.md). No interning.
    engine.set_max_strings_interned(0);
    // A closed stdout (orch ps | head) must not panic the script thread.
    engine.on_print(|s| {
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), "{s}");
    });
    engine.on_debug(|s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(l)) => format!("{src}:{l}: "),
            _ => String::new(),
        };
        eprintln!("{at}{s}");
    });
    // Ctrl-C past its grace period stops the script between operations.
    engine.on_progress(|_| (bridge::phase() == Phase::Stopping).then(|| Dynamic::from(bridge::INTERRUPTED)));
    crate::api::register(&mut engine, namespaces);
    engine
}

/// Builds the engine with limits, imports and the primitives of
/// `namespaces` registered. `loaded` collects the files imported while it
/// runs.
pub fn engine(
    limits: &Limits,
    base: Option<PathBuf>,
    loaded: Arc<Mutex<Vec<PathBuf>>>,
    namespaces: &Namespaces,
) -> Engine {
    let prebuilt = PREBUILT.lock().unwrap().take().and_then(|h| h.join().ok());
    let mut engine = match prebuilt {
        Some((engine, has)) if has.covers(namespaces) => engine,
        _ => bare_engine(namespaces),
    };
    engine.set_max_operations(limits.max_operations);
    engine.set_max_call_levels(limits.max_call_depth);
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_module_resolver(Imports {
        base,
        cache: Mutex::default(),
        loaded,
        resolving: Mutex::default(),
    });
    engine
}

/// Compiles a script, naming it so errors point at the file.
pub fn compile(engine: &Engine, src: &Source) -> Result<AST, Box<EvalAltResult>> {
    let mut ast = engine
        .compile(&src.text)
        .map_err(|e| Box::new(EvalAltResult::from(e)))?;
    ast.set_source(src.name.clone());
    Ok(ast)
}

/// The script thread's stack for a call-depth limit, so the limit stops a
/// deep recursion before the native stack overflows. The heaviest call
/// level measured (a debug build; a body at the deepest nesting the parser
/// allows) took 220 KB; 512 KB per level leaves room.
fn stack_size(max_call_depth: usize) -> usize {
    (8 << 20) + max_call_depth.max(64) * (512 << 10)
}

/// Runs a script to completion on its own thread while this thread
/// watches for Ctrl-C. Returns the process exit code.
pub fn execute(rt: &tokio::runtime::Runtime, src: Source, args: Dynamic, limits: Limits) -> i32 {
    bridge::install(rt.handle().clone());
    let base = src.dir.clone();
    crate::api::set_base_dir(
        base.clone()
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default()),
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread_src = src.clone();
    let spawned = std::thread::Builder::new()
        .name("script".into())
        .stack_size(stack_size(limits.max_call_depth))
        .spawn(move || {
            run_on_this_thread(&thread_src, args, &limits, base, |code| {
                let _ = tx.send(code);
            });
        });
    if let Err(e) = spawned {
        eprintln!("error: cannot start the script thread: {e}");
        return 1;
    }
    rt.block_on(supervise(rx))
}

async fn supervise(mut rx: tokio::sync::oneshot::Receiver<i32>) -> i32 {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return rx.await.unwrap_or(1);
    };
    tokio::select! {
        code = &mut rx => return code.unwrap_or(1),
        _ = int.recv() => {},
        _ = term.recv() => {},
    }
    bridge::advance(Phase::Interrupted);
    match INTERRUPT_NOTICE.lock().unwrap().as_deref() {
        None => {
            eprintln!("\ninterrupted: cancelling engine calls and running the script's cleanup (Ctrl-C again to force)")
        }
        Some("") => {}
        Some(text) => eprintln!("{text}"),
    }
    let grace = match INTERRUPT_GRACE_MS.load(Ordering::SeqCst) {
        u64::MAX => None,
        ms => Some(Duration::from_millis(ms)),
    };
    let grace_over = async move {
        match grace {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        // A script that ends with `exit(n)` after the interrupt chose its
        // code (compose's `up` 130, `service create`'s wait 0, as docker's).
        code = &mut rx => return match *crate::api::util::EXIT_CODE.lock().unwrap() {
            Some(_) => code.unwrap_or(130),
            None => 130,
        },
        _ = int.recv() => {},
        _ = term.recv() => {},
        _ = grace_over => {},
    }
    // Taken before the phase moves, so the script cannot drop them first.
    let forced = bridge::take_force_actions();
    bridge::advance(Phase::Stopping);
    let _ = tokio::time::timeout(Duration::from_secs(10), futures_util::future::join_all(forced)).await;
    let _ = tokio::time::timeout(Duration::from_millis(300), &mut rx).await;
    130
}

/// Compiles and evaluates on the calling thread; prints any diagnostic.
/// Runs the script and hands its exit code to `report` before its values
/// are freed: the main thread exits the process on the code, so a large
/// run's teardown (500 containers' handles and rows after `ps`) never
/// delays the exit.
fn run_on_this_thread(src: &Source, args: Dynamic, limits: &Limits, base: Option<PathBuf>, report: impl FnOnce(i32)) {
    let loaded = Arc::new(Mutex::new(Vec::new()));
    let engine = engine(limits, base, loaded.clone(), &namespaces::of(&src.text));
    let mut scope = Scope::new();
    let code = run_ast(&engine, src, args, limits, &mut scope);
    // `orch run --watch` runs each round as a child and watches what it
    // imported.
    if let Some(out) = std::env::var_os("ORCH_LOADED_FILES") {
        let list: Vec<String> = loaded.lock().unwrap().iter().map(|p| p.display().to_string()).collect();
        let _ = std::fs::write(out, list.join("\n"));
    }
    report(code);
}

fn run_ast(engine: &Engine, src: &Source, args: Dynamic, limits: &Limits, scope: &mut Scope) -> i32 {
    let ast = match compile(engine, src) {
        Ok(ast) => ast,
        Err(e) => {
            diag::print_error(&e, src, limits);
            return diag::EXIT_SYNTAX;
        }
    };
    scope.push_constant("ARGS", args);
    match engine.run_ast_with_scope(scope, &ast) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(code) = *crate::api::util::EXIT_CODE.lock().unwrap() {
                return code;
            }
            if let EvalAltResult::Exit(v, _) = *e {
                return exit_code(&v);
            }
            if bridge::phase() != Phase::Running {
                return 130;
            }
            diag::print_error(&e, src, limits)
        }
    }
}

fn exit_code(v: &Dynamic) -> i32 {
    if v.is_unit() {
        0
    } else if let Ok(i) = v.as_int() {
        (i & 255) as i32
    } else if let Ok(b) = v.as_bool() {
        i32::from(!b)
    } else {
        1
    }
}
