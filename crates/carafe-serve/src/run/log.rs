//! The default log output of `run_simple`: Werkzeug's lines on standard error.
//!
//! Access lines (`carafe::access`) print bare, as Werkzeug prints them; other events print
//! with their level. `RUST_LOG` overrides the default filter (`info`). An application that
//! installed its own `tracing` subscriber keeps it.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// Installs the default subscriber unless one is already set.
pub(super) fn install_default_subscriber() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(WerkzeugFormat)
        .finish();
    // An error means the application installed its own subscriber: keep that one.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Prints access lines as they are and other events as `LEVEL target: message`.
struct WerkzeugFormat;

impl<S, N> FormatEvent<S, N> for WerkzeugFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != "carafe::access" {
            let level = meta.level();
            if *level != Level::INFO {
                write!(writer, "{level} ")?;
            }
            write!(writer, "{}: ", meta.target())?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
