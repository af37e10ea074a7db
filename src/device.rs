//! Which device region fits run on: `--device cpu|cuda:N`.
//!
//! The default build has one backend, burn's pure-Rust `flex` CPU backend, so only `cpu` is
//! accepted. A build with `--features tch` (libtorch, for HPC GPU nodes; see the README)
//! accepts `cuda:N` as well. The choice is made once per run, before any fit, and read by
//! [`crate::train::device`] through [`selected`] (a process-wide setting, because every fit of
//! a run uses the same device).

use std::sync::atomic::{AtomicI64, Ordering};

/// A device choice from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The CPU (flex, or libtorch's CPU device with `--features tch`).
    #[default]
    Cpu,
    /// CUDA device N (libtorch; needs `--features tch`).
    Cuda(usize),
}

impl DeviceChoice {
    /// Parses `cpu` or `cuda:N` (`cuda` = `cuda:0`), refusing devices this build cannot use.
    pub fn parse(text: &str) -> Result<Self, String> {
        let choice = match text.trim() {
            "cpu" => Self::Cpu,
            "cuda" => Self::Cuda(0),
            t => match t.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Self::Cuda(n),
                _ => return Err(format!("unknown device {text:?}: expected cpu or cuda:N")),
            },
        };
        if matches!(choice, Self::Cuda(_)) && !cfg!(feature = "tch") {
            return Err(format!(
                "device {text:?} needs the libtorch backend: this sstcast was built without it; rebuild with `cargo build --release --features tch` (see the README, GPU nodes)"
            ));
        }
        Ok(choice)
    }

    /// The burn device for this choice (libtorch build).
    #[cfg(feature = "tch")]
    #[allow(deprecated)] // burn-tch is deprecated upstream but is the path to site CUDA stacks
    pub fn libtorch(self) -> burn::tensor::Device {
        match self {
            Self::Cpu => burn::tensor::Device::libtorch(),
            Self::Cuda(n) => burn::tensor::Device::libtorch_cuda(n),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// -1: cpu; n >= 0: cuda:n.
static SELECTED: AtomicI64 = AtomicI64::new(-1);

/// Sets the device of the fits that follow.
pub fn select(choice: DeviceChoice) {
    let v = match choice {
        DeviceChoice::Cpu => -1,
        DeviceChoice::Cuda(n) => n as i64,
    };
    SELECTED.store(v, Ordering::SeqCst);
}

/// The device set by [`select`] (default: cpu).
pub fn selected() -> DeviceChoice {
    match SELECTED.load(Ordering::SeqCst) {
        v if v < 0 => DeviceChoice::Cpu,
        n => DeviceChoice::Cuda(n as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!(DeviceChoice::parse("cpu"), Ok(DeviceChoice::Cpu));
        assert!(DeviceChoice::parse("gpu").is_err());
        assert!(DeviceChoice::parse("cuda:x").is_err());
        let cuda = DeviceChoice::parse("cuda:1");
        if cfg!(feature = "tch") {
            assert_eq!(cuda, Ok(DeviceChoice::Cuda(1)));
        } else {
            assert!(cuda.unwrap_err().contains("--features tch"));
        }
    }
}
