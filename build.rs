//! Build script: records the versions of the libraries that shape sstcast's numbers, so the
//! outputs' provenance (`source` attribute) names the burn that actually trained the models,
//! read from `Cargo.lock` at build time instead of a string someone must remember to update.

use std::fs;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = fs::read_to_string("Cargo.lock").unwrap_or_default();
    println!(
        "cargo:rustc-env=SSTCAST_BURN_VERSION={}",
        locked_version(&lock, "burn").unwrap_or_else(|| "unknown".into())
    );
}

/// The version of package `name` in a Cargo.lock text.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_string());
        }
    }
    None
}
