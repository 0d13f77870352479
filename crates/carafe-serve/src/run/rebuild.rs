//! How the reloader rebuilds the running program: the `cargo build` command that makes the
//! same binary again.
//!
//! Cargo leaves a binary at `TARGET/PROFILE/NAME` (a `[[bin]]`) or
//! `TARGET/PROFILE/examples/NAME` (an example), with `TARGET/TRIPLE/PROFILE/…` when built
//! for an explicit `--target`; the target directory holds a `CACHEDIR.TAG`. So the running
//! executable's path tells the target directory, the profile (`debug` is `dev`, any other
//! directory is the profile of that name) and whether it is a bin or an example. The
//! package is the one whose sources are watched: `--manifest-path WATCH/Cargo.toml`.
//! Features cannot be read from a binary: put extra `cargo build` arguments in
//! `CARAFE_RELOAD_CARGO_ARGS` (`--features a,b`). Cargo itself comes from `$CARGO`, which
//! `cargo run` sets, or `cargo` on the `PATH`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Extra arguments for `cargo build` (features, say), separated by spaces.
const EXTRA_ARGS_VAR: &str = "CARAFE_RELOAD_CARGO_ARGS";

/// The command that rebuilds the running program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rebuild {
    /// `cargo`.
    pub(crate) cargo: OsString,
    /// The arguments after `cargo`.
    pub(crate) args: Vec<OsString>,
    /// Where cargo runs: the watched package directory.
    pub(crate) dir: PathBuf,
}

impl Rebuild {
    /// The build command for the executable `exe`, whose package is in `dir`.
    pub(crate) fn for_exe(exe: &Path, dir: &Path) -> Result<Rebuild, String> {
        let target = Target::of(exe)?;
        let mut args: Vec<OsString> = vec!["build".into(), "--target-dir".into()];
        args.push(target.dir.into_os_string());
        match target.profile.as_str() {
            "debug" => {}
            "release" => args.push("--release".into()),
            other => args.extend(["--profile".into(), other.into()]),
        }
        if let Some(triple) = target.triple {
            args.extend(["--target".into(), triple]);
        }
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() {
            args.extend(["--manifest-path".into(), manifest.into_os_string()]);
        }
        args.push(if target.example { "--example" } else { "--bin" }.into());
        args.push(target.name);
        if let Ok(extra) = std::env::var(EXTRA_ARGS_VAR) {
            args.extend(extra.split_whitespace().map(OsString::from));
        }
        Ok(Rebuild {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            args,
            dir: dir.to_owned(),
        })
    }

    /// The command, ready to run (its output goes to this process's terminal). The
    /// variables `cargo run` set for this program are removed: build scripts that watch
    /// one of them (ring watches `CARGO_MANIFEST_DIR`) would otherwise rebuild on every
    /// switch between the reloader's builds and the developer's own.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.cargo);
        command.args(&self.args).current_dir(&self.dir);
        for (name, _) in std::env::vars_os() {
            if is_set_by_cargo_run(&name.to_string_lossy()) {
                command.env_remove(&name);
            }
        }
        command
    }

    /// The command as a person would type it, for messages.
    pub(crate) fn display(&self) -> String {
        let words = std::iter::once(self.cargo.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str));
        words
            .map(OsStr::to_string_lossy)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What an executable's path says about how cargo built it.
#[derive(Debug)]
struct Target {
    dir: PathBuf,
    profile: String,
    triple: Option<OsString>,
    example: bool,
    name: OsString,
}

impl Target {
    fn of(exe: &Path) -> Result<Target, String> {
        let unknown = || {
            format!(
                "cannot tell how {} was built: the reloader rebuilds programs that cargo left \
                 at TARGET/PROFILE/NAME or TARGET/PROFILE/examples/NAME (cargo run)",
                exe.display()
            )
        };
        let name = exe.file_name().ok_or_else(unknown)?.to_owned();
        let mut parent = exe.parent().ok_or_else(unknown)?;
        let example = parent.file_name() == Some(OsStr::new("examples"));
        if example {
            parent = parent.parent().ok_or_else(unknown)?;
        }
        let profile = parent.file_name().ok_or_else(unknown)?;
        let profile = profile.to_str().ok_or_else(unknown)?.to_owned();
        let above = parent.parent().ok_or_else(unknown)?;
        let (dir, triple) = if is_target_dir(above) {
            (above.to_owned(), None)
        } else {
            let root = above.parent().filter(|root| is_target_dir(root));
            let root = root.ok_or_else(unknown)?;
            (root.to_owned(), above.file_name().map(OsStr::to_owned))
        };
        if profile == "deps" || profile == "build" {
            return Err(unknown());
        }
        Ok(Target {
            dir,
            profile,
            triple,
            example,
            name,
        })
    }
}

/// Whether `cargo run` (or `cargo test`) sets the variable `name` for the program it runs.
fn is_set_by_cargo_run(name: &str) -> bool {
    const EXACT: [&str; 7] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "OUT_DIR",
    ];
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// Cargo marks its target directories with a `CACHEDIR.TAG`.
fn is_target_dir(dir: &Path) -> bool {
    dir.join("CACHEDIR.TAG").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake target directory under a new temporary directory.
    fn target_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("carafe-rebuild-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55",
        )
        .expect("tag");
        dir
    }

    fn words(rebuild: &Rebuild) -> Vec<String> {
        let args = rebuild
            .args
            .iter()
            .map(|arg| arg.to_string_lossy().into_owned());
        args.collect()
    }

    #[test]
    fn debug_example_builds_the_example_in_the_dev_profile() {
        let target = target_dir("example");
        let exe = target.join("debug/examples/hello");
        let rebuild = Rebuild::for_exe(&exe, Path::new("/nowhere")).expect("known layout");
        let target = target.to_string_lossy().into_owned();
        assert_eq!(
            words(&rebuild),
            ["build", "--target-dir", &target, "--example", "hello"]
        );
    }

    #[test]
    fn release_bin_and_custom_profiles_and_triples_are_kept() {
        let target = target_dir("bin");
        let rebuild = Rebuild::for_exe(&target.join("release/app"), Path::new("/nowhere"))
            .expect("known layout");
        assert!(words(&rebuild).ends_with(&["--release".into(), "--bin".into(), "app".into()]));
        let rebuild = Rebuild::for_exe(
            &target.join("x86_64-unknown-linux-gnu/fast/app"),
            Path::new("/nowhere"),
        )
        .expect("known layout");
        let words = words(&rebuild);
        assert!(words.windows(2).any(|pair| pair == ["--profile", "fast"]));
        assert!(words
            .windows(2)
            .any(|pair| pair == ["--target", "x86_64-unknown-linux-gnu"]));
    }

    #[test]
    fn variables_of_the_running_program_are_not_passed_to_cargo_build() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_PKG_NAME",
            "CARGO_BIN_EXE_app",
            "OUT_DIR",
        ] {
            assert!(is_set_by_cargo_run(name), "{name}");
        }
        for name in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_NET_OFFLINE",
            "PATH",
        ] {
            assert!(!is_set_by_cargo_run(name), "{name}");
        }
    }

    #[test]
    fn test_binaries_and_unknown_layouts_are_refused_with_a_reason() {
        let target = target_dir("deps");
        let error = Rebuild::for_exe(&target.join("debug/deps/app-0123abcd"), Path::new("/"))
            .expect_err("a test binary");
        assert!(error.contains("cannot tell how"), "{error}");
        assert!(Rebuild::for_exe(Path::new("/usr/bin/app"), Path::new("/")).is_err());
    }
}
