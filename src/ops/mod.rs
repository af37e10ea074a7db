//! Operating sstcast unattended (cron, Slurm): what a batch job needs beyond the science.
//!
//! - [`lock`]: one run per output directory (an `O_EXCL` lock file naming its holder).
//! - [`signal`]: SIGTERM/SIGINT/SIGUSR1 ask the run to stop after the regions in flight, so a
//!   scheduler's pre-emption or a Ctrl-C loses no finished work.

pub mod lock;
pub mod signal;

/// This machine's host name (`gethostname`), or `"unknown"`.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether process `pid` exists on this host (`kill(pid, 0)`; EPERM means it exists).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if p <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission; nothing is delivered.
    let rc = unsafe { libc::kill(p, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
