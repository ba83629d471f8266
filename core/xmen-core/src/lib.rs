//! xmen core
pub mod pyfmt;
pub mod spec;
pub mod value;
pub use value::Value;
