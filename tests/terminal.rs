//! Compose commands in a real pseudo terminal (tests/common/pty.rs), side
//! by side with the reference Docker Compose v2.40.3: `exec`'s interactive
//! shell (window size, terminal restored after), `logs`' coloured prefixes,
//! and `up -d`'s live progress, compared as the final screen.

mod common;

use common::pty::{render, strip_ansi, Pty};
use common::side::sides;
use common::*;

const LOOP: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

#[test]
fn render_applies_cursor_moves_erases_and_wraps() {
    let s = "\x1b[1A\x1b[1B\x1b[0Ga 1\r\nb 1\r\n\x1b[2A\x1b[2Ka 2\r\n\x1b[Kb 2\r\nc\x1b[?25h";
    assert_eq!(render(s, 80), ["a 2", "b 2", "c"]);
    assert_eq!(render("abcdef", 4), ["abcd", "ef"]);
    assert_eq!(strip_ansi("\x1b[36mweb-1  |\x1b[0m hi"), "web-1  | hi");
}

/// `exec svc sh` in a 33x101 terminal: the shell's `stty size` is the
/// window's, follows a resize, and once the shell exits the terminal's
/// settings are back to what they were (the tool had it raw meanwhile).
#[test]
fn exec_shell_in_a_terminal_gets_the_window_size_and_restores_it() {
    let yaml = format!("services:\n  svc:\n    image: {TEST_IMAGE}\n    command: [\"sh\", \"-c\", \"{LOOP}\"]\n");
    let (_dir, o, r) = sides("pty-exec", &yaml);
    for side in [&r, &o] {
        side.ok(&["up", "-d", "--wait"]);
        let mut pty = Pty::spawn_sized(side.command(&["exec", "svc", "sh"]), 33, 101);
        pty.wait_for_text("/ # ", 60);
        assert_ne!(
            pty.termios(),
            pty.initial,
            "{}: the terminal is not raw during exec",
            side.tool
        );
        pty.send(b"stty size\r");
        pty.wait_for_text("33 101", 30);
        pty.set_size(40, 120);
        std::thread::sleep(std::time::Duration::from_millis(300));
        pty.send(b"stty size\r");
        pty.wait_for_text("40 120", 30);
        pty.send(b"exit 4\r");
        assert_eq!(pty.wait(60), 4, "{}: {}", side.tool, pty.text());
        assert_eq!(pty.termios(), pty.initial, "{}: terminal not restored", side.tool);
    }
}

/// The raw prefixes (escapes kept) of the `logs` lines in order of first
/// appearance, the service names (all as long) made `<s>`: both tools take
/// the next rainbow colour for each container as its first line arrives.
fn prefixes(raw: &str, names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for line in raw.split("\r\n").filter(|l| l.contains('|')) {
        let mut p = line[..line.find('|').unwrap() + 1].to_string();
        for n in names {
            p = p.replace(n, "<s>");
        }
        if !v.contains(&p) {
            v.push(p);
        }
    }
    v
}

/// `logs` on a terminal colours each service's prefix as compose does;
/// with `--no-color`, or when stdout is a pipe, no escapes at all.
#[test]
fn logs_on_a_terminal_colour_the_prefixes_as_compose() {
    let svc = |n: &str| {
        format!("  {n}:\n    image: {TEST_IMAGE}\n    command: [\"sh\", \"-c\", \"echo {n} says hi; {LOOP}\"]\n")
    };
    let yaml = format!("services:\n{}{}", svc("api"), svc("web"));
    let (_dir, o, r) = sides("pty-logs", &yaml);
    let mut seen = Vec::new();
    for side in [&r, &o] {
        side.ok(&["up", "-d", "--wait"]);
        let mut pty = Pty::spawn(side.command(&["logs"]));
        assert_eq!(pty.wait(60), 0, "{}: {}", side.tool, pty.text());
        let text = pty.text();
        assert!(
            text.contains("web says hi") && text.contains("api says hi"),
            "{}: {text}",
            side.tool
        );
        // As a set: which service's lines come first (and so, with
        // compose, takes the first colour) is a race on a loaded machine.
        let mut found = prefixes(&pty.raw(), &["api", "web"]);
        found.sort();
        seen.push(found);
        let mut plain = Pty::spawn(side.command(&["logs", "--no-color"]));
        assert_eq!(plain.wait(60), 0);
        assert!(
            !plain.raw().contains('\x1b'),
            "{} --no-color: {:?}",
            side.tool,
            plain.raw()
        );
        let piped = side.ok(&["logs"]);
        assert!(!piped.contains('\x1b'), "{} piped: {piped:?}", side.tool);
    }
    assert_eq!(seen[0].len(), 2, "compose: {:?}", seen[0]);
    assert!(seen[0].iter().all(|p| p.contains("\x1b[")), "compose: {:?}", seen[0]);
    assert_eq!(seen[1], seen[0], "orch's prefixes vs compose's");
}

/// A final screen made comparable: the project name, timers and the
/// spinner frames replaced, runs of spaces collapsed, the resource lines
/// sorted (both tools list them in event order).
fn normalise(lines: &[String], project: &str) -> Vec<String> {
    let timer = |w: &str| {
        let t = w.strip_suffix('s').unwrap_or("");
        !t.is_empty() && t.contains('.') && t.chars().all(|c| c.is_ascii_digit() || c == '.')
    };
    let mut out: Vec<String> = lines
        .iter()
        .map(|l| {
            let l = l.replace(project, "<p>");
            let words: Vec<&str> = l.split_whitespace().map(|w| if timer(w) { "<t>" } else { w }).collect();
            words.join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect();
    if out.len() > 1 {
        out[1..].sort();
    }
    out
}

/// `up -d` of 10 services on a wide terminal: compose's live display ends
/// with `[+] Running 11/11`, a line per network and container with its
/// state and timer; orch's final screen is the same.
#[test]
fn up_progress_on_a_terminal_ends_on_compose_screen() {
    let mut yaml = String::from("services:\n");
    for i in 0..10 {
        yaml.push_str(&format!(
            "  s{i}:\n    image: {TEST_IMAGE}\n    command: [\"sh\", \"-c\", \"{LOOP}\"]\n"
        ));
    }
    let (_dir, o, r) = sides("pty-up", &yaml);
    let mut screens = Vec::new();
    for side in [&r, &o] {
        let mut pty = Pty::spawn_sized(side.command(&["up", "-d"]), 40, 200);
        assert_eq!(pty.wait(120), 0, "{}: {}", side.tool, pty.text());
        screens.push(normalise(&pty.screen(), &side.project));
    }
    let (want, got) = (&screens[0], &screens[1]);
    assert_eq!(want.len(), 12, "compose's screen: {want:#?}");
    assert_eq!(want[0], "[+] Running 11/11");
    assert_eq!(got, want, "orch's final screen vs compose's");
}

/// Each command heads its display with its own word, as compose does
/// (`[+] Stopping 2/2`, `[+] Removing 2/2`): the final screens compared.
#[test]
fn other_commands_head_their_progress_as_compose() {
    let yaml =
        format!("services:\n  a:\n    image: {TEST_IMAGE}\n    command: [\"sh\", \"-c\", \"{LOOP}\"]\n    scale: 2\n");
    let (_dir, o, r) = sides("pty-title", &yaml);
    let mut screens = Vec::new();
    for side in [&r, &o] {
        let mut screen = Vec::new();
        for args in [&["up", "-d"][..], &["stop"], &["rm", "-f"]] {
            let mut pty = Pty::spawn_sized(side.command(args), 40, 200);
            assert_eq!(pty.wait(120), 0, "{} {args:?}: {}", side.tool, pty.text());
            screen.extend(normalise(&pty.screen(), &side.project));
        }
        // Both name them in the engine's order, newest first: replicas
        // created at once come in either order, in compose too.
        for line in screen.iter_mut().filter(|l| l.starts_with("Going to remove ")) {
            let mut names: Vec<&str> = line["Going to remove ".len()..].split(", ").collect();
            names.sort();
            *line = format!("Going to remove {}", names.join(", "));
        }
        screens.push(screen);
    }
    assert!(
        screens[0].contains(&"[+] Stopping 2/2".to_string()),
        "compose: {:#?}",
        screens[0]
    );
    assert_eq!(screens[1], screens[0], "orch's final screens vs compose's");
}
