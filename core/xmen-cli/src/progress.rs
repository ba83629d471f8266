//! The progress of `xmen run` in the foreground (issue 14 item 5): a one-line bar on a terminal,
//! plain `[i/N]` lines elsewhere, and the runs' own output passed through.
//!
//! When stderr is a terminal, a bar (`[#####.....] 4/12 done, 1 failed, 0:42 elapsed, ETA 1:24`)
//! sits on the last line of stderr and is redrawn in place. Everything else printed (the `[i/N]
//! Running:` lines, the runs' output, errors) first clears it, then the bar is drawn again below,
//! so it never mixes with other text. When stderr is not a terminal (a pipe, a file, CI) no bar
//! and no escape sequence is written: only the `[i/N]` lines and the summary; `xmen run --plain`
//! does the same on a terminal.
//!
//! **Key design choice: the runs' output goes through one printer.** With a bar, or with `-j N`
//! (several runs at once), each run's stdout and stderr are pipes read by a thread per stream;
//! the threads send what they read to the loop in `run.rs`, which prints it here, so a line is
//! never cut by the bar or by another run. With `-j N` each line is prefixed with its run's
//! label (`[3] `, the `i` of its `[i/N]` line). With one run at a time the bytes pass through
//! unchanged (a `\r` progress display of the run keeps working) and the bar is redrawn only when
//! the run's output ends a line. With neither (one run at a time, no terminal) the run inherits
//! our stdout and stderr as before and nothing goes through here.

use std::io::{IsTerminal as _, Write};
use std::time::{Duration, Instant};

/// How often an idle bar is redrawn (its elapsed time and ETA move).
const REDRAW: Duration = Duration::from_millis(500);

/// After output, the bar is drawn again at once unless it was drawn this recently; a run that
/// prints fast then costs one redraw per interval ([`Progress::tick`] draws it).
const SETTLE: Duration = Duration::from_millis(50);

/// The widest the `#....` part of the bar gets.
const MAX_BAR: usize = 30;

/// The narrowest `#....` part worth drawing; below it the bar is text only.
const MIN_BAR: usize = 5;

/// A line of a run longer than this without a newline is printed as it is (a run writing a
/// `\r` display for a long time would otherwise be held back forever with `-j N`).
const MAX_PENDING: usize = 64 * 1024;

/// A duration as a clock: `M:SS` under an hour, `H:MM:SS` from an hour.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s < 3600 {
        format!("{}:{:02}", s / 60, s % 60)
    } else {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// The time left when `done` of `total` runs took `elapsed`: the mean time per finished run
/// times the runs left (with `-j N` a run's share of the wall time, so it still holds). `None`
/// before the first run ends.
pub fn eta(elapsed: Duration, done: usize, total: usize) -> Option<Duration> {
    if done == 0 {
        return None;
    }
    let left = u32::try_from(total.saturating_sub(done)).unwrap_or(u32::MAX);
    let per_run = elapsed / u32::try_from(done).unwrap_or(u32::MAX);
    Some(per_run.saturating_mul(left))
}

/// The bar's text for a terminal `width` columns wide, never wider than `width - 1` (a line
/// filling the last column makes some terminals wrap, and the bar would no longer be redrawn
/// in place): `[#####.....] 4/12 done, 1 failed, 0:42 elapsed, ETA 1:24`. The `#....` part
/// shrinks first, then goes; the text is cut at the end on very narrow terminals.
pub fn render(width: usize, done: usize, total: usize, failed: usize, elapsed: Duration) -> String {
    let eta = eta(elapsed, done, total).map_or_else(|| "-".to_owned(), clock);
    let text = format!("{done}/{total} done, {failed} failed, {} elapsed, ETA {eta}", clock(elapsed));
    let room = width.saturating_sub(1);
    let bar_len = room.saturating_sub(text.len() + 3).min(MAX_BAR);
    if bar_len < MIN_BAR {
        return text.chars().take(room).collect();
    }
    let filled = (bar_len * done.min(total)).checked_div(total).unwrap_or(bar_len);
    format!("[{}{}] {text}", "#".repeat(filled), ".".repeat(bar_len - filled))
}

/// The terminal width for the bar: `$COLUMNS` when set, else stderr's size, else 80.
fn term_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or_else(|| terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0)))
        .unwrap_or(80)
}

/// Cut complete lines off the front of `pending` (a run's output not printed yet), each with
/// its `\n` or `\r\n` removed; a `\r` inside a line keeps only what follows it, as a terminal
/// would show. With `all`, the rest (the stream ended) is a line too when not empty.
pub fn take_lines(pending: &mut Vec<u8>, all: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(nl) = pending[start..].iter().position(|b| *b == b'\n') {
        lines.push(shown(&pending[start..start + nl]));
        start += nl + 1;
    }
    if (all && start < pending.len()) || pending.len() - start > MAX_PENDING {
        lines.push(shown(&pending[start..]));
        start = pending.len();
    }
    pending.drain(..start);
    lines
}

/// What a terminal shows of one line: the text after its last `\r` that is not at its end.
fn shown(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let from = line.iter().rposition(|b| *b == b'\r').map_or(0, |i| i + 1);
    String::from_utf8_lossy(&line[from..]).into_owned()
}

/// Where a piece of output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Our stdout.
    Out,
    /// Our stderr.
    Err,
}

/// The one printer of `xmen run`'s foreground progress and of the runs' piped output.
#[derive(Debug)]
pub struct Progress {
    /// Whether the bar is drawn (stderr is a terminal).
    live: bool,
    total: usize,
    done: usize,
    failed: usize,
    started: Instant,
    /// Whether the bar is on screen now.
    drawn: bool,
    /// When it was last drawn.
    last_draw: Instant,
    /// Whether the last byte passed through ended a line (the bar may be drawn below it).
    at_line_start: bool,
}

impl Progress {
    /// The progress of `total` runs, with a bar when `bar` is asked for and stderr is a
    /// terminal (and `$TERM` is not `dumb`).
    pub fn new(total: usize, bar: bool) -> Progress {
        let live = bar && std::io::stderr().is_terminal() && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let now = Instant::now();
        Progress { live, total, done: 0, failed: 0, started: now, drawn: false, last_draw: now, at_line_start: true }
    }

    /// Whether a bar is shown (the runs' output must then come through [`Progress::forward`]).
    pub fn live(&self) -> bool {
        self.live
    }

    /// Take the bar off the screen (before other output, and at the end).
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }

    /// Draw the bar again, when there is one and the cursor is at the start of a line.
    fn draw(&mut self) {
        if !self.live || !self.at_line_start {
            return;
        }
        let line = render(term_width(), self.done, self.total, self.failed, self.started.elapsed());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.drawn = true;
        self.last_draw = Instant::now();
    }

    /// Print a whole line of our own on `stream`, above the bar.
    pub fn line(&mut self, stream: Stream, text: &str) {
        self.clear();
        if !self.at_line_start {
            // A run's output ended without a newline: keep our line off it.
            self.write(stream, b"\n");
        }
        self.write(stream, text.as_bytes());
        self.write(stream, b"\n");
        self.at_line_start = true;
        self.draw_soon();
    }

    /// Draw the bar again unless it was drawn a moment ago (then [`Progress::tick`] will).
    fn draw_soon(&mut self) {
        if self.last_draw.elapsed() >= SETTLE {
            self.draw();
        }
    }

    /// Pass a run's output through unchanged (one run at a time, with a bar).
    pub fn forward(&mut self, stream: Stream, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.clear();
        self.write(stream, bytes);
        self.at_line_start = bytes.last() == Some(&b'\n');
        self.draw_soon();
    }

    /// One run ended.
    pub fn finished(&mut self, failed: bool) {
        self.done += 1;
        self.failed += usize::from(failed);
        self.clear();
        self.draw();
    }

    /// Redraw the bar when its clock has moved enough (call while waiting).
    pub fn tick(&mut self) {
        if self.live && (!self.drawn || self.last_draw.elapsed() >= REDRAW) {
            self.clear();
            self.draw();
        }
    }

    fn write(&self, stream: Stream, bytes: &[u8]) {
        match stream {
            Stream::Out => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(bytes);
                let _ = out.flush();
            }
            Stream::Err => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(bytes);
                let _ = err.flush();
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn clock_shows_minutes_under_an_hour_and_hours_from_one() {
        assert_eq!(clock(Duration::ZERO), "0:00");
        assert_eq!(clock(S * 61), "1:01");
        assert_eq!(clock(S * 3599 + Duration::from_millis(999)), "59:59");
        assert_eq!(clock(S * 3600), "1:00:00");
        assert_eq!(clock(S * (26 * 3600 + 62)), "26:01:02");
    }

    #[test]
    fn eta_is_the_mean_run_time_times_the_runs_left() {
        assert_eq!(eta(S * 10, 0, 5), None, "no estimate before a run ends");
        assert_eq!(eta(S * 10, 2, 5), Some(S * 15));
        assert_eq!(eta(S * 10, 5, 5), Some(Duration::ZERO));
        assert_eq!(eta(S * 10, 7, 5), Some(Duration::ZERO), "never negative");
    }

    #[test]
    fn the_bar_fills_with_the_runs_done_and_fits_the_width() {
        let line = render(80, 4, 12, 1, S * 42);
        assert_eq!(line, "[##########....................] 4/12 done, 1 failed, 0:42 elapsed, ETA 1:24");
        assert!(line.len() < 80);
        assert_eq!(render(80, 0, 3, 0, S), "[..............................] 0/3 done, 0 failed, 0:01 elapsed, ETA -");
        assert!(render(80, 3, 3, 0, S).starts_with(&format!("[{}]", "#".repeat(30))));
        for width in [0, 1, 10, 40, 55, 60, 61, 62, 200] {
            let line = render(width, 7, 2000, 3, S * 4000);
            assert!(line.chars().count() < width.max(1), "width {width}: {line:?}");
        }
        // the `#....` part shrinks, then goes; the text stays whole while it fits
        let text = "7/2000 done, 3 failed, 1:06:40 elapsed, ETA 316:20:57";
        assert_eq!(render(text.len() + 1 + 3 + MIN_BAR, 7, 2000, 3, S * 4000), format!("[.....] {text}"));
        assert_eq!(render(text.len() + 3 + MIN_BAR, 7, 2000, 3, S * 4000), text);
        assert_eq!(render(11, 7, 2000, 3, S * 4000), "7/2000 don");
    }

    #[test]
    fn lines_are_cut_at_newlines_and_a_carriage_return_keeps_what_follows() {
        let mut p = b"one\ntwo\r\n10%\r50%\r100%\npart".to_vec();
        assert_eq!(take_lines(&mut p, false), ["one", "two", "100%"]);
        assert_eq!(p, b"part");
        assert_eq!(take_lines(&mut p, false), Vec::<String>::new());
        p.extend_from_slice(b"ial\n\nlast");
        assert_eq!(take_lines(&mut p, false), ["partial", ""]);
        assert_eq!(take_lines(&mut p, true), ["last"]);
        assert!(p.is_empty());
        assert_eq!(take_lines(&mut p, true), Vec::<String>::new(), "nothing left, no empty line");
        let mut long = vec![b'x'; MAX_PENDING + 1];
        assert_eq!(take_lines(&mut long, false).len(), 1, "a line without end is not held forever");
        assert!(long.is_empty());
    }
}
