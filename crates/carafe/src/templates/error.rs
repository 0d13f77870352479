//! [`TemplateError`]: a template that could not be found, compiled or rendered.

use std::fmt;

use carafe_serve::Response;
use http::StatusCode;

use crate::error::HttpError;
use crate::response::IntoResponse;

/// A template failed: not found, a syntax error, or an error while rendering (an
/// undefined filter, a failing function).
///
/// Return it from a handler: the answer is `500 Internal Server Error` and the error is
/// logged with the template's name, line and source excerpt. In debug mode the answer's
/// body carries the same description; in production it says nothing more.
///
/// ```
/// use carafe::templates::{context, TemplateError, Templates};
/// use carafe::Html;
///
/// async fn page(templates: Templates) -> Result<Html<String>, TemplateError> {
///     templates.render("missing.html", context! {})
/// }
/// # let _ = carafe::get(page);
/// ```
#[derive(Debug)]
pub struct TemplateError {
    /// The template being rendered when it failed (the one asked for, not an include).
    name: String,
    /// What minijinja reported; it names the template and line where it failed.
    source: minijinja::Error,
    /// Whether the answer may show the description.
    debug: bool,
}

impl TemplateError {
    /// An error from rendering `name`.
    pub(crate) fn new(name: &str, source: minijinja::Error, debug: bool) -> Self {
        TemplateError {
            name: name.to_owned(),
            source,
            debug,
        }
    }

    /// An error for `name` that could not be rendered at all: `detail` says why.
    pub(crate) fn outside(name: &str, detail: &str) -> Self {
        let source =
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, detail.to_owned());
        TemplateError::new(name, source, crate::scope::debug_backtraces())
    }

    /// The name of the template that was rendered.
    ///
    /// ```
    /// # fn f(error: carafe::templates::TemplateError) {
    /// tracing::warn!("{} failed", error.template_name());
    /// # }
    /// ```
    pub fn template_name(&self) -> &str {
        &self.name
    }

    /// The line of the failing template where it failed, if known.
    ///
    /// ```
    /// # fn f(error: carafe::templates::TemplateError) {
    /// let line: Option<usize> = error.line();
    /// # let _ = line;
    /// # }
    /// ```
    pub fn line(&self) -> Option<usize> {
        self.source.line()
    }

    /// Whether the template was not found (in any template folder).
    ///
    /// ```
    /// # fn f(error: carafe::templates::TemplateError) {
    /// if error.is_not_found() { /* ... */ }
    /// # }
    /// ```
    pub fn is_not_found(&self) -> bool {
        self.source.kind() == minijinja::ErrorKind::TemplateNotFound
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failing = self.source.name().unwrap_or(&self.name);
        write!(f, "template error in {failing}")?;
        if let Some(line) = self.source.line() {
            write!(f, " line {line}")?;
        }
        if failing != self.name {
            write!(f, " (rendering {})", self.name)?;
        }
        match self.source.detail() {
            Some(detail) => write!(f, ": {}: {detail}", self.source.kind()),
            None => write!(f, ": {}", self.source.kind()),
        }
    }
}

impl std::error::Error for TemplateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<TemplateError> for HttpError {
    /// A `500`; the error is logged here, and its description is the message only in
    /// debug mode.
    fn from(error: TemplateError) -> Self {
        tracing::error!(
            target: "carafe::templates",
            "{error}\n{}",
            error.source.display_debug_info()
        );
        let message = if error.debug {
            error.to_string()
        } else {
            "Internal Server Error".to_owned()
        };
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for TemplateError {
    fn into_response(self) -> Response {
        HttpError::from(self).into_response()
    }
}
