//! A child process on a real pseudo terminal, as a user's shell runs it:
//! the child is a session leader with the pty as its controlling terminal,
//! so its line discipline turns 0x03 into SIGINT, `isatty` is true, and the
//! window size set here is what `stty size` reports. The terminal's output
//! is collected in the background; [`Pty::screen`] replays it through a
//! tiny terminal (enough for the progress displays of compose and docker:
//! cursor up/down, column moves, erase line/below) to show the final screen.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    pub child: std::process::Child,
    pub master: std::fs::File,
    /// Kept open so the terminal's settings can be read after the child
    /// has exited (`termios`).
    slave: OwnedFd,
    /// The terminal's settings before the child ran (see `termios`).
    pub initial: Vec<u64>,
    cols: usize,
    output: Arc<Mutex<Vec<u8>>>,
}

fn winsize(rows: u16, cols: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    /// `cmd` on a new 24x80 terminal.
    pub fn spawn(cmd: Command) -> Pty {
        Self::spawn_sized(cmd, 24, 80)
    }

    /// `cmd` on a new terminal of `rows` x `cols`.
    pub fn spawn_sized(mut cmd: Command, rows: u16, cols: u16) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let size = winsize(rows, cols);
        // SAFETY: openpty writes two descriptors it opened; the size is read.
        let rc = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &size) };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned here.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let initial = termios(&slave);
        cmd.stdin(slave.try_clone().unwrap())
            .stdout(slave.try_clone().unwrap())
            .stderr(slave.try_clone().unwrap())
            .env("TERM", "xterm");
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on a pty");
        let master = std::fs::File::from(master);
        let output = Arc::new(Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), output.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            master,
            slave,
            initial,
            cols: cols as usize,
            output,
        }
    }

    /// Types `keys` (0x03 is Ctrl-C, `\r` is Enter).
    pub fn send(&mut self, keys: &[u8]) {
        self.master.write_all(keys).expect("type on the pty");
    }

    /// Resizes the window (TIOCSWINSZ; the child gets SIGWINCH).
    pub fn set_size(&self, rows: u16, cols: u16) {
        let size = winsize(rows, cols);
        // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "TIOCSWINSZ: {}", std::io::Error::last_os_error());
    }

    /// The terminal's settings (tcgetattr on the slave side), as comparable
    /// bytes: flags, line discipline and control characters.
    pub fn termios(&self) -> Vec<u64> {
        termios(&self.slave)
    }

    /// Everything the child wrote, escapes included.
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).into_owned()
    }

    /// Everything the child wrote, without escape sequences.
    pub fn text(&self) -> String {
        strip_ansi(&self.raw())
    }

    /// The final screen: the output replayed through a small terminal.
    pub fn screen(&self) -> Vec<String> {
        render(&self.raw(), self.cols)
    }

    /// Waits until the (escape-free) output contains `needle`.
    pub fn wait_for_text(&self, needle: &str, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        while !self.text().contains(needle) {
            assert!(Instant::now() < end, "no {needle:?} on the terminal:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the child's exit (panics after `secs`); its exit code.
    pub fn wait(&mut self, secs: u64) -> i32 {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                // Let the reader drain what was written just before the exit.
                std::thread::sleep(Duration::from_millis(200));
                return s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < end, "still running:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn termios(fd: &OwnedFd) -> Vec<u64> {
    // SAFETY: termios is plain data; tcgetattr fills it.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: the descriptor is open (borrowed).
    let rc = unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) };
    assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
    let mut v = vec![t.c_iflag as u64, t.c_oflag as u64, t.c_cflag as u64, t.c_lflag as u64];
    v.extend(t.c_cc.iter().map(|&c| c as u64));
    v
}

/// `s` without escape sequences (CSI `ESC [ ... letter`, and two-byte
/// escapes like `ESC 7`).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() || c == '~' {
                    break;
                }
            }
        } else {
            chars.next();
        }
    }
    out
}

/// A screen of lines and a cursor: what a terminal `cols` wide shows after
/// `s` (lines wrap at the edge; the cursor never moves below the last line,
/// as on a terminal's bottom row).
pub fn render(s: &str, cols: usize) -> Vec<String> {
    let mut lines: Vec<Vec<char>> = vec![Vec::new()];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => {
                row += 1;
                col = 0;
            }
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut params = String::new();
                let mut fin = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        fin = c;
                        break;
                    }
                    params.push(c);
                }
                let n = params.trim_start_matches('?').parse::<usize>().unwrap_or(0);
                let line = |lines: &mut Vec<Vec<char>>, row: usize| {
                    while lines.len() <= row {
                        lines.push(Vec::new());
                    }
                };
                line(&mut lines, row);
                match fin {
                    'A' => row = row.saturating_sub(n.max(1)),
                    'B' => row = (row + n.max(1)).min(lines.len() - 1),
                    'C' => col += n.max(1),
                    'D' => col = col.saturating_sub(n.max(1)),
                    'G' => col = n.max(1) - 1,
                    'K' => match n {
                        0 => lines[row].truncate(col),
                        1 => lines[row].iter_mut().take(col).for_each(|c| *c = ' '),
                        _ => lines[row].clear(),
                    },
                    'J' if n == 0 => {
                        lines[row].truncate(col);
                        lines.truncate(row + 1);
                    }
                    _ => {}
                }
            }
            '\x1b' => {
                chars.next();
            }
            '\x08' => col = col.saturating_sub(1),
            c if (c as u32) < 0x20 => {}
            c => {
                if col >= cols {
                    row += 1;
                    col = 0;
                }
                while lines.len() <= row {
                    lines.push(Vec::new());
                }
                let l = &mut lines[row];
                while l.len() < col {
                    l.push(' ');
                }
                if col < l.len() {
                    l[col] = c;
                } else {
                    l.push(c);
                }
                col += 1;
            }
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}
