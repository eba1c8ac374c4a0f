//! Single keys from orch's terminal while logs stream, for compose's
//! navigation menu of attached `up`. The terminal goes into the mode
//! compose's keyboard library sets (no echo, no line editing, Ctrl-C a
//! key; output still translated, so log lines keep their line ends); a
//! thread reads stdin a byte at a time and the script asks for keys when
//! it likes. Ctrl-C gives the terminal back and then interrupts orch, as
//! the Ctrl-C of a terminal in its usual mode would; Ctrl-Z gives it back
//! while orch is suspended.
//!
//! ```rhai
//! let keys = keyboard::start();
//! let k = keys.next();      // "w", "enter", … or () when none came
//! keys.close();
//! ```

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

use rhai::plugin::*;
use rhai::Dynamic;
use rustix::termios::{self, InputModes, LocalModes, OptionalActions, SpecialCodeIndex, Termios};

use super::RhaiResult;

/// The terminal's settings before `start`, while keys are being read.
type Saved = Arc<Mutex<Option<Termios>>>;

/// Keys read from the terminal. Cloning shares it; closed when the last
/// copy is dropped.
#[derive(Clone)]
pub struct Keys(Arc<Inner>);

struct Inner {
    rx: Mutex<Receiver<u8>>,
    saved: Saved,
    /// Set when Ctrl-C came as a key (compose then ends with 0 once its
    /// stop is done, not 130).
    ctrl_c: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        restore(&self.saved);
    }
}

/// compose's keyboard library's mode (eiannone/keyboard): input flags and
/// line discipline off, one byte at a time, output processing kept.
fn keys_mode(saved: &Termios) -> Termios {
    let mut t = saved.clone();
    t.input_modes.remove(
        InputModes::IGNBRK
            | InputModes::BRKINT
            | InputModes::PARMRK
            | InputModes::ISTRIP
            | InputModes::INLCR
            | InputModes::IGNCR
            | InputModes::ICRNL
            | InputModes::IXON,
    );
    t.local_modes
        .remove(LocalModes::ECHO | LocalModes::ECHONL | LocalModes::ICANON | LocalModes::ISIG | LocalModes::IEXTEN);
    t.special_codes[SpecialCodeIndex::VMIN] = 1;
    t.special_codes[SpecialCodeIndex::VTIME] = 0;
    t
}

/// The settings of the last `start`, for `restore_terminal` on the way
/// out of orch whatever path the script took.
static ACTIVE: Mutex<Option<Saved>> = Mutex::new(None);

/// Gives the terminal back its settings if keys are still being read
/// (called as orch exits).
pub fn restore_terminal() {
    if let Some(saved) = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).take() {
        restore(&saved);
    }
}

/// Puts the terminal back as it was (once; later calls do nothing).
fn restore(saved: &Saved) {
    if let Some(t) = saved.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &t);
    }
}

/// Reads stdin until it ends; Ctrl-C and Ctrl-Z act on the process.
fn read_keys(saved: Saved, ctrl_c: Arc<AtomicBool>, tx: std::sync::mpsc::Sender<u8>) {
    let mut stdin = std::io::stdin();
    let mut byte = [0u8; 1];
    while let Ok(1) = stdin.read(&mut byte) {
        match byte[0] {
            0x03 => {
                restore(&saved);
                ctrl_c.store(true, Ordering::SeqCst);
                // SAFETY: raising a signal on our own process.
                unsafe { libc::raise(libc::SIGINT) };
                return;
            }
            0x1a => {
                let before = saved.lock().unwrap_or_else(|e| e.into_inner()).clone();
                restore(&saved);
                // SAFETY: raising a signal on our own process; it goes on
                // here once continued.
                unsafe { libc::raise(libc::SIGTSTP) };
                if let Some(t) = before {
                    let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &keys_mode(&t));
                    *saved.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
                }
            }
            b => {
                if tx.send(b).is_err() {
                    return;
                }
            }
        }
    }
}

/// A key as scripts see it: the character, or "enter".
fn key_name(b: u8) -> Dynamic {
    match b {
        b'\r' | b'\n' => "enter".into(),
        b if b.is_ascii_graphic() || b == b' ' => (b as char).to_string().into(),
        _ => Dynamic::UNIT,
    }
}

#[export_module]
pub mod api {
    use super::*;

    pub type Keys = super::Keys;

    /// Starts reading single keys from orch's terminal (stdin), which
    /// stays in that mode until `close` (or the end of orch). Fails when
    /// stdin is not a terminal.
    ///
    /// ```rhai
    /// if is_terminal("stdin") { let keys = keyboard::start(); keys.close(); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start() -> RhaiResult<Keys> {
        crate::api::host_access("keyboard::start")?;
        let stdin = std::io::stdin();
        let before =
            termios::tcgetattr(&stdin).map_err(|e| format!("keyboard::start: stdin is not a terminal ({e})"))?;
        termios::tcsetattr(&stdin, OptionalActions::Now, &keys_mode(&before))
            .map_err(|e| format!("keyboard::start: {e}"))?;
        let saved: Saved = Arc::new(Mutex::new(Some(before)));
        *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(saved.clone());
        let (tx, rx) = channel();
        let (reader, ctrl_c) = (saved.clone(), Arc::new(AtomicBool::new(false)));
        let seen = ctrl_c.clone();
        std::thread::spawn(move || read_keys(reader, seen, tx));
        Ok(Keys(Arc::new(Inner {
            rx: Mutex::new(rx),
            saved,
            ctrl_c,
        })))
    }

    /// The next key pressed since the last call (`"w"`, `"enter"` …), or
    /// `()` when none; never waits.
    ///
    /// ```rhai
    /// let k = keys.next();
    /// if k == "w" { print("w pressed"); }
    /// ```
    #[rhai_fn(global, name = "next")]
    pub fn next(k: &mut Keys) -> Dynamic {
        let rx = k.0.rx.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match rx.try_recv() {
                Ok(b) => {
                    let key = key_name(b);
                    if !key.is_unit() {
                        return key;
                    }
                }
                Err(_) => return Dynamic::UNIT,
            }
        }
    }

    /// Whether Ctrl-C came as a key (it then interrupted orch).
    ///
    /// ```rhai
    /// if keys.ctrl_c() { print("stopped from the keyboard"); }
    /// ```
    #[rhai_fn(global, name = "ctrl_c")]
    pub fn ctrl_c(k: &mut Keys) -> bool {
        k.0.ctrl_c.load(Ordering::SeqCst)
    }

    /// Gives the terminal back its usual mode; keys are no longer read.
    ///
    /// ```rhai
    /// keys.close();
    /// ```
    #[rhai_fn(global, name = "close")]
    pub fn close(k: &mut Keys) {
        restore(&k.0.saved);
    }
}

pub fn register_types(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<Keys>("Keys");
}
