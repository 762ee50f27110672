//! Ctrl-C (SIGINT) during a run: the first one asks the training loop to stop at its next safe
//! point (after the current iteration's checkpoint), the second one ends the process at once.
//!
//! The handler only sets a flag and writes a fixed message (both async-signal-safe); the loop
//! polls [`requested`] after each checkpoint and returns [`crate::error::CliError::Interrupted`],
//! which exits with code 130 and tells how to resume.

use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code of an interrupted command (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

static REQUESTED: AtomicBool = AtomicBool::new(false);

const FIRST: &[u8] =
    b"\ninterrupt: stopping after the current iteration's checkpoint (Ctrl-C again to quit at once)\n";
const SECOND: &[u8] = b"\ninterrupt: quitting at once\n";

extern "C" fn on_sigint(_: libc::c_int) {
    if REQUESTED.swap(true, Ordering::SeqCst) {
        // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffer is a static.
        unsafe {
            libc::write(libc::STDERR_FILENO, SECOND.as_ptr().cast(), SECOND.len());
            libc::_exit(EXIT_INTERRUPTED);
        }
    }
    // SAFETY: as above.
    unsafe {
        libc::write(libc::STDERR_FILENO, FIRST.as_ptr().cast(), FIRST.len());
    }
}

/// Install the SIGINT handler (for commands that train). Calling it twice is harmless.
pub fn install() {
    let handler: extern "C" fn(libc::c_int) = on_sigint;
    // SAFETY: the handler only touches an atomic and calls async-signal-safe functions.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

/// Whether a Ctrl-C asked the run to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
