//! Stop requests: SIGTERM (Slurm pre-emption, `systemctl stop`, `kill`), SIGINT (Ctrl-C)
//! and SIGUSR1 (Slurm's `--signal=USR1@N` warning before the time limit).
//!
//! Killing a run in the middle of a region fit wastes nothing that was saved, but killing it
//! between regions wastes nothing at all. The handlers only set a flag ([`stop_requested`]);
//! the region loop checks it before starting each region, lets the regions in flight finish
//! and save, and the run ends with exit 75 (temporary failure) so that the next run resumes.
//! The handlers are installed once with `SA_RESETHAND`: a second Ctrl-C kills at once.

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static INSTALLED: AtomicBool = AtomicBool::new(false);
static SIGNAL: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe work: two atomic stores.
    SIGNAL.store(sig, Ordering::SeqCst);
    STOP.store(true, Ordering::SeqCst);
}

/// Installs the handlers for SIGTERM, SIGINT and SIGUSR1 (idempotent).
pub fn install() -> std::io::Result<()> {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR1] {
        // SAFETY: a zeroed sigaction is valid; the handler only touches atomics.
        let rc = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            sa.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The name of the signal that requested the stop, if one did.
pub fn stop_signal_name() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        libc::SIGTERM => Some("SIGTERM"),
        libc::SIGINT => Some("SIGINT"),
        libc::SIGUSR1 => Some("SIGUSR1"),
        _ => Some("a signal"),
    }
}

/// Sends SIGTERM to this process: the test hook `SSTCAST_STOP_AFTER` uses it so that tests
/// go through the real signal path at a deterministic point. Only call it after
/// [`install`], or the default action terminates the process.
pub fn send_sigterm_to_self() {
    // SAFETY: raise has no preconditions.
    unsafe {
        libc::raise(libc::SIGTERM);
    }
}
