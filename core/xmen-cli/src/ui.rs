//! Talking to the user: the banner, questions and confirmations.
//!
//! Questions go to stderr so stdout stays clean for pipes. A confirmation reads one line from
//! stdin whether or not it is a terminal (so `yes | xmen clean` works); end of input means no.
//! Free-text questions (a purpose) are only asked on a terminal.

use std::io::{self, BufRead as _, IsTerminal as _, Write as _};

/// The welcome banner of bare `xmen`.
pub const BANNER: &str = r"
 ____________________________________________________
|                                                    |
|     __  __  _ __ ___    ___  _ __                  |
|     \ \/ / | '_ ` _ \  / _ \| '_ \                 |
|      >  <  | | | | | ||  __/| | | |                |
|     /_/\_\ |_| |_| |_| \___||_| |_|                |
|                                                    |
|       fast  -  reproducible  -  experimentation    |
|____________________________________________________|
";

/// Whether stdin is a terminal (a person can answer).
pub fn interactive() -> bool {
    io::stdin().is_terminal()
}

/// Print `question` to stderr and read one line from stdin (`None` at end of input).
pub fn ask(question: &str) -> io::Result<Option<String>> {
    let mut err = io::stderr().lock();
    write!(err, "{question}")?;
    err.flush()?;
    drop(err);
    let mut line = String::new();
    let n = io::stdin().lock().read_line(&mut line)?;
    if n == 0 {
        eprintln!();
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\n', '\r']).to_owned()))
}

/// Ask a yes/no question (`[y | n]`); `skip` (from `--yes`, or the `prompt` option off) answers
/// yes without asking.
pub fn confirm(question: &str, skip: bool) -> io::Result<bool> {
    if skip {
        return Ok(true);
    }
    let answer = ask(&format!("{question} [y | n]: "))?;
    Ok(answer.is_some_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes")))
}

/// Ask for free text on a terminal only; `None` when not interactive or at end of input.
pub fn ask_text(question: &str) -> io::Result<Option<String>> {
    if !interactive() {
        return Ok(None);
    }
    ask(question)
}

/// A list of paths, at most `max` shown, for plans printed before destructive commands.
pub fn bullet_list<T: std::fmt::Display>(items: &[T], max: usize) -> String {
    let mut out: Vec<String> = items.iter().take(max).map(|i| format!("  - {i}")).collect();
    if items.len() > max {
        out.push(format!("  ... and {} more", items.len() - max));
    }
    out.join("\n")
}
