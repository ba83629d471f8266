// Shared by the messenger examples: where to register, and how to print a message.

use std::path::PathBuf;

/// The folder to register the examples' experiments in: the first argument, or a
/// fresh folder under the system's temporary directory.
pub fn base_dir(name: &str) -> PathBuf {
    match std::env::args().nth(1) {
        Some(d) => PathBuf::from(d),
        None => std::env::temp_dir().join(format!("xmen-{name}-{}", std::process::id())),
    }
}

/// An experiment's current message `key`, printed like Python (`None` when absent).
pub fn msg(root: &xmen::Root, key: &str) -> String {
    root.record().ok().and_then(|r| r.message_value(key).cloned()).map_or_else(|| "None".to_owned(), |v| v.to_string())
}
