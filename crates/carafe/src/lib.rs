//! # carafe
//!
//! A Flask-style web framework on [`carafe_serve`].
