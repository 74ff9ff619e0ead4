//! Installs the process-wide `tracing` subscriber.
//!
//! The filter comes from `FORGE_LOG` in `tracing-subscriber`'s env-filter
//! syntax (`FORGE_LOG=forge::sched=debug,forge::gc=info`); without it only
//! warnings and errors are shown. Output goes to stderr, never stdout, because
//! stdout belongs to the Forge program.

use tracing_subscriber::{fmt, EnvFilter};

/// How telemetry lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable single lines.
    #[default]
    Text,
    /// One JSON object per line, for machines.
    Json,
}

/// The environment variable holding the filter.
pub const FILTER_ENV: &str = "FORGE_LOG";

/// Installs the subscriber. Cheap when `FORGE_LOG` is unset: nothing is
/// installed at all, so the `tracing` macros stay disabled and start-up pays
/// nothing. Calling it twice is harmless (the second call is ignored).
pub fn init(format: LogFormat) {
    let Ok(spec) = std::env::var(FILTER_ENV) else {
        return;
    };
    let filter = EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("warning: ignoring invalid {FILTER_ENV}={spec:?}: {e}");
        EnvFilter::new("warn")
    });
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal();
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.with_target(true).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
