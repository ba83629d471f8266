//! One xmen experiment's record: defaults.yml and params.yml, their status, messages, notes,
//! provenance and system meta, and the global configuration that links every record.
//!
//! **Key design choice: this crate is the only code that writes params.yml, and every write
//! is a locked read-modify-write ending in an atomic rename** ([`RecordFile::update`]). The
//! running experiment, `xmen note`, `xmen reset` and the Messenger hook all go through it, so
//! concurrent writers never lose each other's updates and a writer killed at any instant leaves
//! a params.yml that parses. The YAML is read with serde-saphyr (YAML 1.2, like the original's
//! ruamel.yaml) and written by our own small emitter, which copies ruamel's layout and puts the
//! help comments and key order of defaults.yml and params.yml exactly where the original did.
//!
//! ```
//! use xmen_record::{Keep, Param, Record};
//!
//! let mut rec = Record::new(vec![Param::new("lr", 0.001, "lr: float=0.001 ~ The learning rate")]);
//! rec.update(&[("lr".to_owned(), 1.into())]).unwrap(); // an int is cast to the float default
//! rec.root = Some("/tmp/exp".into());
//! rec.message(&[("loss".to_owned(), 0.5.into())], Keep::Min, None).unwrap();
//! assert!(rec.to_params_yaml().unwrap().contains("lr: 1.0 # lr: float=0.001 ~ The learning rate"));
//! ```

pub mod attempts;
pub mod config;
pub mod declared;
pub mod error;
pub mod hookscost;
pub mod locks;
pub mod mailbox;
pub mod meta;
pub mod ops;
pub mod quick;
pub mod record;
pub mod redact;
pub mod register;
pub mod runinfo;
pub mod shell;
pub mod status;
pub mod store;
pub mod template;
pub mod update;
pub mod validate;
pub mod version;
pub mod yaml;

pub use config::{config_dir, GlobalConfig};
pub use error::{RecordError, Result};
pub use ops::{message_value, Keep};
pub use record::{help_line, Extra, Layout, Param, Record, Timestamps, HOOKS_KEY};
pub use register::{register, RegisterOpts, Registered};
pub use status::Status;
pub use store::{atomic_write, locked_write, write_script, FileLock, RecordFile, WriteOpts};
pub use template::RegisterTemplate;
pub use update::cast_to_default;
pub use version::{git_info, GitInfo, VersionInfo};
