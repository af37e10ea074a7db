//! Which device region fits run on: `--device cpu|cuda:N`.
//!
//! The default build has one backend, burn's pure-Rust `flex` CPU backend, so only `cpu` is
//! accepted. A build with `--features tch` (libtorch, for HPC GPU nodes; see the README)
//! accepts `cuda:N` as well.
//!
//! The choice is a value, not a process-wide setting: it travels in
//! [`super::TrainSettings::device`] to every fit, and [`DeviceChoice::device`] turns it into
//! the burn device where a fit needs one. A test or a library caller can run fits on
//! different devices in one process, and nothing has to be set before fitting.

use burn::tensor::Device;

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

    /// The burn device fits run on for this choice: burn's flex CPU backend, or libtorch's
    /// CPU or CUDA device when sstcast is built with the `tch` feature.
    pub fn device(self) -> Device {
        #[cfg(feature = "tch")]
        {
            self.libtorch()
        }
        #[cfg(not(feature = "tch"))]
        {
            Device::flex()
        }
    }

    /// The libtorch device for this choice.
    #[cfg(feature = "tch")]
    #[allow(deprecated)] // burn-tch is deprecated upstream but is the path to site CUDA stacks
    fn libtorch(self) -> Device {
        match self {
            Self::Cpu => Device::libtorch(),
            Self::Cuda(n) => Device::libtorch_cuda(n),
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
