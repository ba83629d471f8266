//! `--txt`: copy everything written to file descriptors 1 and 2 into `{root}/out.txt` while
//! still showing it.
//!
//! The copy happens at the descriptor level, not in Rust's `std::io::stdout`, because hook
//! libraries have their own Rust runtime and child processes write to the inherited
//! descriptors. Each of stdout and stderr is replaced by a pipe; a copier thread per pipe
//! forwards every chunk to the original descriptor at once and appends whole lines to the
//! file (so stdout and stderr lines never interleave mid-line). [`Tee::finish`] flushes,
//! restores the descriptors and joins the copiers, so no line is lost.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::ExperimentError;

fn setup(action: &'static str) -> impl FnOnce(rustix::io::Errno) -> ExperimentError {
    move |e| ExperimentError::Setup { action, source: e.into() }
}

/// One redirected descriptor: the saved original and its copier.
struct Stream {
    saved: OwnedFd,
    done: mpsc::Receiver<()>,
}

/// An active tee; dropping it without [`Tee::finish`] leaves the descriptors redirected
/// until the process ends (the copiers keep forwarding).
pub(crate) struct Tee {
    out: Stream,
    err: Stream,
}

fn copier(read: OwnedFd, mut show: File, file: Arc<Mutex<File>>, done: mpsc::Sender<()>) {
    let mut read = File::from(read);
    let mut buf = [0u8; 8192];
    let mut pending: Vec<u8> = Vec::new();
    let write_lines = |pending: &mut Vec<u8>, all: bool| {
        let cut = if all { pending.len() } else { pending.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) };
        if cut > 0 {
            let mut f = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            // A full disk must not stop the run; the terminal copy still shows everything.
            let _ = f.write_all(&pending[..cut]);
            let _ = f.flush();
            pending.drain(..cut);
        }
    };
    loop {
        match read.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let _ = show.write_all(&buf[..n]);
                pending.extend_from_slice(&buf[..n]);
                write_lines(&mut pending, false);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    write_lines(&mut pending, true);
    let _ = done.send(());
}

fn redirect(
    fd: std::os::fd::BorrowedFd<'_>,
    install: fn(&OwnedFd) -> rustix::io::Result<()>,
    file: &Arc<Mutex<File>>,
) -> Result<Stream, ExperimentError> {
    let saved = rustix::io::fcntl_dupfd_cloexec(fd, 0).map_err(setup("duplicate a standard stream for --txt"))?;
    let show = rustix::io::fcntl_dupfd_cloexec(&saved, 0).map_err(setup("duplicate a standard stream for --txt"))?;
    let (read, write) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(setup("create a pipe for --txt"))?;
    let (tx, done) = mpsc::channel();
    let file = Arc::clone(file);
    std::thread::Builder::new()
        .name("xmen-tee".into())
        .spawn(move || copier(read, File::from(show), file, tx))
        .map_err(|e| ExperimentError::Setup { action: "start the --txt copier thread", source: e })?;
    install(&write).map_err(setup("redirect a standard stream for --txt"))?;
    Ok(Stream { saved, done })
}

impl Tee {
    /// Start copying stdout and stderr to `path` (appending; created if missing).
    pub(crate) fn start(path: &Path) -> Result<Tee, ExperimentError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| xmen_record::RecordError::io("open", path, e))?;
        // A later attempt (a retry, a rerun after reset) starts with a dated line, so its output
        // is told apart from the earlier ones; the date is in the `_timestamps` format, to match
        // the attempt's `start` in params.yml. A first attempt's out.txt holds only the
        // experiment's own output, as the original's does.
        let mut file = file;
        if file.metadata().is_ok_and(|m| m.len() > 0) {
            let stamp = xmen_core::pyfmt::now_stamp();
            let _ = writeln!(file, "===== xmen: attempt started {stamp} (pid {}) =====", std::process::id());
        }
        let file = Arc::new(Mutex::new(file));
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        let out = redirect(std::io::stdout().as_fd(), |w| rustix::stdio::dup2_stdout(w), &file)?;
        let err = redirect(std::io::stderr().as_fd(), |w| rustix::stdio::dup2_stderr(w), &file)?;
        Ok(Tee { out, err })
    }

    /// Flush, restore the original descriptors and wait for the copiers to write everything
    /// (at most a few seconds: a child process that still holds the pipe open cannot make the
    /// experiment hang at exit).
    pub(crate) fn finish(self) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        let _ = rustix::stdio::dup2_stdout(&self.out.saved);
        let _ = rustix::stdio::dup2_stderr(&self.err.saved);
        for s in [&self.out, &self.err] {
            let _ = s.done.recv_timeout(Duration::from_secs(3));
        }
    }
}
