//! The JPEG and PNG files under a folder of ../shared/data, in path order (shared by the
//! benches, included by `#[path]`).

use std::path::{Path, PathBuf};

pub fn images_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(images_under(&path));
        } else if path.extension().is_some_and(|e| e == "jpg" || e == "png") {
            out.push(path);
        }
    }
    out.sort();
    out
}
