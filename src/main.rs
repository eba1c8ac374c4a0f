fn main() {
    let code = orch::cli::main();
    // The run's ssh masters (ssh:// engines) end with it.
    orch::ssh::close_all();
    std::process::exit(code);
}
