//! Reading the files, directories and standard input named on the command line.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// One input: its name as the user should see it, and its bytes.
pub struct Input {
    /// The path as given (or found under a directory), `-` for standard input.
    pub name: String,
    /// The content.
    pub bytes: Vec<u8>,
    /// Found by walking a directory rather than named by the user.
    pub walked: bool,
}

/// Reads every named input. Directories are walked for `*.yaml`, `*.yml` and `*.json`, in
/// name order; `-` reads standard input.
pub fn read_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    if paths.is_empty() {
        bail!("no input: name files or directories, or `-` for standard input");
    }
    let mut out: Vec<Input> = Vec::new();
    // The same file named twice (or reached through two directories) is read once.
    let mut seen = std::collections::HashSet::new();
    let mut first_visit =
        |p: &Path| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()));
    for p in paths {
        if p.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            out.push(Input {
                name: "-".into(),
                bytes,
                walked: false,
            });
        } else if p.is_dir() {
            let mut files = Vec::new();
            walk(p, &mut files)?;
            if files.is_empty() {
                bail!(
                    "{}: no .yaml, .yml or .json files in this directory",
                    p.display()
                );
            }
            for f in files {
                if first_visit(&f) {
                    out.push(Input {
                        walked: true,
                        ..read_file(&f)?
                    });
                }
            }
        } else if first_visit(p) {
            out.push(read_file(p)?);
        }
    }
    Ok(out)
}

fn read_file(p: &Path) -> Result<Input> {
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    Ok(Input {
        name: p.display().to_string(),
        bytes,
        walked: false,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(p);
        }
    }
    Ok(())
}
