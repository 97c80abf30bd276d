//! Records the git commit the binary was built from, for `/api/health` and `pharos_build_info`.
//!
//! Release builds also embed `web/dist` (see src/web.rs), so they must be rebuilt when the UI is:
//! cargo watches `web/dist` (or, until it exists, `web/`, so the first UI build is picked up). Debug
//! builds read `web/dist` from disk at run time and watch neither.
use std::path::Path;

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PHAROS_COMMIT={commit}");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
    println!("cargo:rerun-if-changed=build.rs");

    if std::env::var("PROFILE").as_deref() == Ok("release") {
        let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
        let web = Path::new(&manifest_dir).join("../../web");
        let dist = web.join("dist");
        let watched = if dist.is_dir() { dist } else { web };
        println!("cargo:rerun-if-changed={}", watched.display());
    }
}
