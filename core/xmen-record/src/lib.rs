//! xmen record (work in progress)
