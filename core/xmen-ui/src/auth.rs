//! Who may ask: every request carries the token (query `token=`, an `Authorization: token T`
//! header, or the cookie set on the first visit) and a `Host` header naming this server, and a
//! form sent from another origin is refused.
//!
//! As in Jupyter, the token is required even on 127.0.0.1: on a shared login node every user
//! reaches 127.0.0.1. The `Host` check stops DNS rebinding (a page on another name that resolves
//! to 127.0.0.1); the cookie is `SameSite=Strict` and `HttpOnly`.

use axum::http::{header, HeaderMap, Method};

use crate::state::App;

/// The cookie's name: the port is part of it, since cookies do not tell ports apart.
pub fn cookie_name(port: u16) -> String {
    format!("xmen_ui_token_{port}")
}

/// A fresh random token (192 bits, hex).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 24];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Check a token given with `--token`: long enough and URL-safe.
pub fn check_token(t: &str) -> Result<(), String> {
    if t.len() < 16 {
        return Err(format!(
            "the --token is {} characters long: give at least 16 (e.g. the output of `openssl rand -hex 16`)",
            t.len()
        ));
    }
    if let Some(c) = t.chars().find(|c| !(c.is_ascii_alphanumeric() || "-._~".contains(*c))) {
        return Err(format!("the token contains `{c}`; use letters, digits and - . _ ~ only (it goes in URLs)"));
    }
    Ok(())
}

/// Compare without an early exit, so timing does not reveal a prefix of the token.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The Host header is missing or names another server.
    Host(String),
    /// No valid token.
    Token,
    /// A state-changing request from another origin.
    Origin(String),
}

/// Where the token came from.
#[derive(Debug, PartialEq, Eq)]
pub enum Granted {
    /// The query string: set the cookie.
    Query,
    /// A header or the cookie.
    Held,
}

/// Decide whether the request may go on.
pub fn check(
    app: &App,
    port: u16,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Granted, Refusal> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !app.hosts.iter().any(|h| h == ANY_HOST || h.eq_ignore_ascii_case(host)) {
        return Err(Refusal::Host(host.to_owned()));
    }
    if method != Method::GET && method != Method::HEAD {
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok()) {
            if !origin.eq_ignore_ascii_case(&format!("http://{host}")) {
                return Err(Refusal::Origin(origin.to_owned()));
            }
        }
    }
    let from_query = crate::html::Query::parse(query).get("token").is_some_and(|t| same(t, &app.token));
    if from_query {
        return Ok(Granted::Query);
    }
    let auth = headers.get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).unwrap_or("");
    let from_header = auth
        .strip_prefix("token ")
        .or_else(|| auth.strip_prefix("Bearer "))
        .is_some_and(|t| same(t.trim(), &app.token));
    let name = cookie_name(port);
    let from_cookie = headers.get_all(header::COOKIE).iter().filter_map(|h| h.to_str().ok()).any(|c| {
        c.split(';').filter_map(|kv| kv.trim().split_once('=')).any(|(k, v)| k == name && same(v, &app.token))
    });
    if from_header || from_cookie {
        Ok(Granted::Held)
    } else {
        Err(Refusal::Token)
    }
}

/// In [`App::hosts`]: any Host header is accepted.
pub const ANY_HOST: &str = "*";

/// The hosts accepted for a server bound to `host:port`: the loopback names, and the bound
/// name itself when it is another. A server bound to every interface (`0.0.0.0`, `::`) cannot
/// know the names it is reached by, so, as Jupyter does for remote access, it accepts any Host
/// and relies on the token alone.
pub fn allowed_hosts(host: &str, port: u16) -> Vec<String> {
    if host == "0.0.0.0" || host == "::" || host == "[::]" {
        return vec![ANY_HOST.to_owned()];
    }
    let mut names = vec!["127.0.0.1".to_owned(), "localhost".to_owned(), "[::1]".to_owned()];
    let bound = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_owned() };
    if !names.contains(&bound) {
        names.push(bound);
    }
    names.into_iter().map(|n| format!("{n}:{port}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abcd", "abcd"));
        assert!(!same("abcd", "abce"));
        assert!(!same("abc", "abcd"));
    }

    #[test]
    fn a_given_token_must_be_long_and_url_safe() {
        assert!(check_token("0123456789abcdef").is_ok());
        assert!(check_token("short").unwrap_err().contains("5 characters long"));
        assert!(check_token("0123456789abcdef&x").unwrap_err().contains("`&`"));
    }

    #[test]
    fn loopback_names_and_the_bound_name_are_accepted() {
        assert_eq!(allowed_hosts("127.0.0.1", 80), vec!["127.0.0.1:80", "localhost:80", "[::1]:80"]);
        assert_eq!(allowed_hosts("node7", 9)[3], "node7:9");
        assert_eq!(allowed_hosts("::1", 9).len(), 3);
        assert_eq!(allowed_hosts("0.0.0.0", 9), vec![ANY_HOST]);
    }
}
