//! `xmen list`: arguments and execution (owned by the list work).

/// Arguments of `xmen list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {}

/// Run `xmen list`.
pub fn run(_args: ListArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("xmen list is not implemented yet")
}
