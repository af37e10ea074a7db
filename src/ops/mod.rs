//! Operating sstcast unattended (cron, Slurm): what a batch job needs beyond the science.
//!
//! - [`lock`]: one run per output directory (an `O_EXCL` lock file naming its holder).
//! - [`signal`]: SIGTERM/SIGINT/SIGUSR1 ask the run to stop after the regions in flight, so a
//!   scheduler's pre-emption or a Ctrl-C loses no finished work.
//! - [`checkpoint`]: every fitted region saved at once, so runs resume, and shards and
//!   `merge` share results.
//! - [`shard`]: which regions task `I` of a Slurm job array of `N` fits.
//!
//! The fitting stage ([`crate::fit`]) knows none of this: it takes a cache and a stop hook,
//! and the pipeline plugs the checkpoint store, the shard filter and the signal flag into them.

pub mod checkpoint;
pub mod lock;
pub mod shard;
pub mod signal;
