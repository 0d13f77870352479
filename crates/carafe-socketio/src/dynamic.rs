//! Dynamic namespaces (Node's `io.of(regex | fn)` and `ParentNamespace`): a parent
//! namespace whose matcher accepts namespace names; a CONNECT to an unknown name the
//! matcher accepts creates a child namespace that shares the parent's handlers and
//! middleware. Broadcasting from the parent reaches every child.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use carafe_socketio::{Socket, SocketIo};
//!
//! let sio = SocketIo::builder().build();
//! let rooms = sio.dynamic_namespace("/room-*");
//! rooms.on_connect(|socket: Socket, _auth: serde_json::Value| async move {
//!     socket.emit("welcome", socket.namespace())
//! });
//! let mut client = sio.test_client();
//! client.connect("/room-42", None).await.unwrap();
//! let (_, _, args) = client.recv_event("/room-42").await.unwrap();
//! assert_eq!(args.deserialize::<String>().unwrap(), "/room-42");
//! assert_eq!(rooms.children(), vec!["/room-42".to_owned()]);
//! assert!(client.connect("/other", None).await.is_err());
//! # }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::io::{IoInner, SocketIo};
use crate::namespace::{Connecting, Namespace, NsInner, OnEmpty};

/// What decides which namespace names a dynamic namespace accepts: a closure on the name,
/// or a [`NamespacePattern`] (a `&str` or `String` is read as one).
///
/// ```
/// use carafe_socketio::NamespaceMatcher;
///
/// assert!("/room-*".accepts("/room-7"));
/// assert!((|name: &str| name.len() == 3).accepts("/ab"));
/// ```
pub trait NamespaceMatcher: Send + Sync + 'static {
    /// Whether namespace `name` (with its leading `/`) belongs to this dynamic namespace.
    fn accepts(&self, name: &str) -> bool;

    /// The parent namespace's name (a pattern's text; a generated `/_N` otherwise).
    fn parent_name(&self) -> Option<String> {
        None
    }
}

impl<F> NamespaceMatcher for F
where
    F: Fn(&str) -> bool + Send + Sync + 'static,
{
    fn accepts(&self, name: &str) -> bool {
        self(name)
    }
}

/// A namespace-name pattern: `*` stands for any run of characters (none included) except
/// `/`, `**` for any run including `/`, `?` for one character; everything else matches
/// itself. A leading `/` is added if missing.
///
/// ```
/// use carafe_socketio::{NamespaceMatcher, NamespacePattern};
///
/// let pattern = NamespacePattern::new("/room-*");
/// assert!(pattern.accepts("/room-1") && pattern.accepts("/room-"));
/// assert!(!pattern.accepts("/room-1/x") && !pattern.accepts("/rooms"));
/// assert!(NamespacePattern::new("/org/**").accepts("/org/a/b"));
/// assert!(NamespacePattern::new("/v?").accepts("/v2"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePattern(String);

impl NamespacePattern {
    /// The pattern `text`.
    ///
    /// ```
    /// let pattern = carafe_socketio::NamespacePattern::new("chat-*");
    /// assert_eq!(pattern.as_str(), "/chat-*");
    /// ```
    pub fn new(text: &str) -> Self {
        if text.starts_with('/') {
            NamespacePattern(text.to_owned())
        } else {
            NamespacePattern(format!("/{text}"))
        }
    }

    /// The pattern's text.
    ///
    /// ```
    /// assert_eq!(carafe_socketio::NamespacePattern::new("/a").as_str(), "/a");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl NamespaceMatcher for NamespacePattern {
    fn accepts(&self, name: &str) -> bool {
        glob(self.0.as_bytes(), name.as_bytes())
    }

    fn parent_name(&self) -> Option<String> {
        Some(self.0.clone())
    }
}

impl NamespaceMatcher for &'static str {
    fn accepts(&self, name: &str) -> bool {
        NamespacePattern::new(self).accepts(name)
    }

    fn parent_name(&self) -> Option<String> {
        Some(NamespacePattern::new(self).0)
    }
}

impl NamespaceMatcher for String {
    fn accepts(&self, name: &str) -> bool {
        NamespacePattern::new(self).accepts(name)
    }

    fn parent_name(&self) -> Option<String> {
        Some(NamespacePattern::new(self).0)
    }
}

/// Matches `name` against `pattern`: one row of a dynamic program per pattern token, so
/// time is O(pattern × name) whatever the stars, never exponential.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    // matched[j]: the pattern so far matches name[..j].
    let mut matched = vec![false; name.len() + 1];
    matched[0] = true;
    let mut p = 0;
    while p < pattern.len() {
        match pattern[p] {
            b'*' => {
                let deep = pattern.get(p + 1) == Some(&b'*');
                p += if deep { 2 } else { 1 };
                for j in 1..=name.len() {
                    // A star extends a match by any character (`/` only for `**`).
                    if !matched[j] && matched[j - 1] && (deep || name[j - 1] != b'/') {
                        matched[j] = true;
                    }
                }
            }
            c => {
                p += 1;
                for j in (1..=name.len()).rev() {
                    matched[j] = matched[j - 1] && (c == b'?' || c == name[j - 1]);
                }
                matched[0] = false;
            }
        }
    }
    matched[name.len()]
}

/// A dynamic parent namespace and its matcher.
pub(crate) struct Parent {
    matcher: Box<dyn NamespaceMatcher>,
    ns: Namespace,
}

impl SocketIo {
    /// A dynamic namespace: every namespace name `matcher` accepts (a closure on the name,
    /// or a pattern such as `"/room-*"`, see [`NamespacePattern`]) becomes, on its first
    /// CONNECT (or its first [`namespace`](SocketIo::namespace) / [`of`](SocketIo::of)),
    /// a child namespace that shares the handlers and middleware registered on the
    /// returned parent. The parent's [`broadcast`](Namespace::broadcast) reaches every
    /// child; names that already exist as static namespaces stay static.
    ///
    /// ```
    /// let sio = carafe_socketio::SocketIo::builder().build();
    /// let tenants = sio.dynamic_namespace(|name: &str| name.starts_with("/tenant-"));
    /// assert!(tenants.is_dynamic_parent());
    /// assert_eq!(sio.namespace("/tenant-a").name(), "/tenant-a");
    /// assert_eq!(tenants.children(), vec!["/tenant-a".to_owned()]);
    /// ```
    pub fn dynamic_namespace(&self, matcher: impl NamespaceMatcher) -> Namespace {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = matcher
            .parent_name()
            .unwrap_or_else(|| format!("/_{}", COUNT.fetch_add(1, Ordering::Relaxed)));
        let ns = Namespace(NsInner::parent(name, self.0.config.clone()));
        self.0
            .parents
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Parent {
                matcher: Box::new(matcher),
                ns: ns.clone(),
            });
        ns
    }

    /// The namespace a CONNECT to `name` goes to, counted as connecting (so cleanup leaves
    /// it alone); a dynamic child is created if a parent accepts the name.
    pub(crate) fn connecting(&self, name: &str) -> Option<Connecting> {
        {
            let namespaces = self
                .0
                .namespaces
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(ns) = namespaces.get(name) {
                return Some(Connecting::start(&ns.0));
            }
        }
        if !self.has_parent_for(name) {
            return None;
        }
        let mut namespaces = self
            .0
            .namespaces
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(ns) = namespaces.get(name) {
            return Some(Connecting::start(&ns.0));
        }
        let child = child_for(self, name)?;
        namespaces.insert(name.to_owned(), child.clone());
        Some(Connecting::start(&child.0))
    }

    fn has_parent_for(&self, name: &str) -> bool {
        let parents = self
            .0
            .parents
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        parents.iter().any(|parent| parent.matcher.accepts(name))
    }
}

/// A new child for `name` of the first parent that accepts it (the caller holds the
/// namespace table's write lock and inserts it).
pub(crate) fn child_for(io: &SocketIo, name: &str) -> Option<Namespace> {
    let parents =
        io.0.parents
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    let parent = parents.iter().find(|parent| parent.matcher.accepts(name))?;
    let on_empty =
        io.0.config
            .cleanup_empty_child_namespaces
            .then(|| cleanup(Arc::downgrade(&io.0), Arc::downgrade(&parent.ns.0)));
    let child = NsInner::child(&parent.ns.0, name.to_owned(), on_empty, &*io.0.adapter);
    tracing::debug!("dynamic namespace {name} created");
    Some(Namespace(child))
}

/// Removes an empty child from the server's table and its parent's children. The check
/// runs under the table's write lock, which every CONNECT takes (to read) before it
/// counts itself as connecting, so a child is never removed under a connecting socket.
fn cleanup(io: Weak<IoInner>, parent: Weak<NsInner>) -> OnEmpty {
    Box::new(move |child: &NsInner| {
        let Some(io) = io.upgrade() else { return };
        let mut namespaces = io
            .namespaces
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if child.socket_count() != 0 || child.connecting.load(Ordering::Acquire) != 0 {
            return;
        }
        let is_this = |ns: &Arc<NsInner>| std::ptr::eq(Arc::as_ptr(ns), child);
        if namespaces.get(&child.name).is_some_and(|ns| is_this(&ns.0)) {
            namespaces.remove(&child.name);
            tracing::debug!("empty dynamic namespace {} removed", child.name);
        }
        if let Some(children) = parent.upgrade().as_ref().and_then(|p| p.children.as_ref()) {
            let mut children = children
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if children.get(&child.name).is_some_and(is_this) {
                children.remove(&child.name);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_stars_questions_and_literals() {
        let cases = [
            ("/room-*", "/room-1", true),
            ("/room-*", "/room-", true),
            ("/room-*", "/room-1/x", false),
            ("/room-*", "/roo", false),
            ("/*-chat", "/a-b-chat", true),
            ("/*-chat", "/a/b-chat", false),
            ("/**", "/a/b/c", true),
            ("/a/**/z", "/a/b/c/z", true),
            ("/a/**/z", "/a/b/c/y", false),
            ("/v?", "/v1", true),
            ("/v?", "/v12", false),
            ("/exact", "/exact", true),
            ("/exact", "/exactly", false),
            (
                "/*a*a*a*a*b",
                "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(
                glob(pattern.as_bytes(), name.as_bytes()),
                want,
                "{pattern} {name}"
            );
        }
    }
}
