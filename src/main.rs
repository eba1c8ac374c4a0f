fn main() {
    std::process::exit(orch::cli::main());
}
