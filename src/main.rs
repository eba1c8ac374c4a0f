fn main() {
    limit_malloc_arenas();
    let code = orch::cli::main();
    // A navigation menu's terminal mode never outlives orch.
    orch::api::keyboard::restore_terminal();
    // The run's ssh masters (ssh:// engines) end with it.
    orch::ssh::close_all();
    std::process::exit(code);
}

/// glibc gives each thread that allocates its own arena (up to 8 per
/// core), and freed memory stays in them: a cold `up -d` of 500 services
/// peaked at 41.8 MB with the default and 38.5 MB with two arenas
/// (`MALLOC_ARENA_MAX=2`, bench/README.md). orch has few threads that
/// allocate (the script's and the runtime's two workers), so two serve.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any thread
    // is started, and its failure (0) leaves the default in place.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
