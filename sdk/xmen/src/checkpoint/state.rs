//! Checkpointable objects: the [`State`] trait, the [`Tracked`] handle that makes an object
//! visible to hooks, and the process-wide registry that resolves handles.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use xmen_core::hook::Snapshot;
use xmen_core::monitor::States;
use xmen_core::value::{StateDict, StateHandle, Tensor, Value};

use xmen_checkpoint_format::StateError;

/// An object whose state a checkpoint saves and restores: named tensors plus text metadata
/// (the original's `state_dict()` / `load_state_dict()`).
///
/// Implemented for [`StateDict`], maps of tensors (`Vec<(String, Tensor)>`,
/// `BTreeMap<String, Tensor>`), [`Json`] (any serde value) and, with feature `tch`,
/// `tch::nn::VarStore` and `VarStoreState`.
///
/// ```
/// use xmen::checkpoint::{State, StateError};
/// use xmen::{StateDict, Tensor};
///
/// struct Bias(f32);
/// impl State for Bias {
///     fn state_dict(&self) -> Result<StateDict, StateError> {
///         Ok(StateDict { tensors: vec![("bias".into(), Tensor::from_f32(&[], &[self.0]))], metadata: vec![] })
///     }
///     fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
///         let t = state.tensor("bias").ok_or_else(|| StateError::new("no tensor `bias`"))?;
///         self.0 = t.to_f64_vec().first().copied().unwrap_or_default() as f32;
///         Ok(())
///     }
/// }
/// ```
pub trait State: Send + 'static {
    /// The current state, copied out of the object.
    fn state_dict(&self) -> Result<StateDict, StateError>;
    /// Replace the object's state with `state`. Check everything before changing anything, so
    /// a refused state leaves the object as it was.
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError>;
    /// The type recorded in a checkpoint's `version` metadata.
    fn type_name(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }
}

impl State for StateDict {
    fn state_dict(&self) -> Result<StateDict, StateError> {
        Ok(self.clone())
    }
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        *self = state.clone();
        Ok(())
    }
}

impl State for Vec<(String, Tensor)> {
    fn state_dict(&self) -> Result<StateDict, StateError> {
        Ok(StateDict { tensors: self.clone(), metadata: Vec::new() })
    }
    /// When the checkpoint has the same names, the values are replaced in place, keeping
    /// this list's order; otherwise the list becomes the checkpoint's (sorted by name).
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        check_tensors(state)?;
        let same_names = self.len() == state.tensors.len() && self.iter().all(|(k, _)| state.tensor(k).is_some());
        if same_names {
            for (k, t) in self.iter_mut() {
                if let Some(new) = state.tensor(k) {
                    t.clone_from(new);
                }
            }
        } else {
            self.clone_from(&state.tensors);
        }
        Ok(())
    }
}

impl State for BTreeMap<String, Tensor> {
    fn state_dict(&self) -> Result<StateDict, StateError> {
        Ok(StateDict { tensors: self.iter().map(|(k, t)| (k.clone(), t.clone())).collect(), metadata: Vec::new() })
    }
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        check_tensors(state)?;
        *self = state.tensors.iter().cloned().collect();
        Ok(())
    }
}

fn check_tensors(state: &StateDict) -> Result<(), StateError> {
    for (name, t) in &state.tensors {
        let want = t.numel() * t.dtype.size();
        if t.data.len() != want {
            return Err(StateError::new(format!(
                "tensor `{name}` of shape {:?} ({}) needs {want} bytes but has {}",
                t.shape,
                t.dtype.name(),
                t.data.len()
            )));
        }
    }
    Ok(())
}

/// The metadata key under which [`Json`] stores its value.
pub const JSON_KEY: &str = "json";

/// Any serde value as checkpointable state: saved as JSON text in the checkpoint's metadata
/// under [`JSON_KEY`] (readable from Python with `safe_open(path, "np").metadata()["json"]`).
///
/// ```
/// use xmen::checkpoint::{Json, State};
/// let mut best = Json(vec![0.5_f64, 0.25]);
/// let saved = best.state_dict()?;
/// assert_eq!(saved.meta("json"), Some("[0.5,0.25]"));
/// best.0.clear();
/// best.load_state_dict(&saved)?;
/// assert_eq!(best.0, [0.5, 0.25]);
/// # Ok::<(), xmen::checkpoint::StateError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Json<T>(pub T);

impl<T> State for Json<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    fn state_dict(&self) -> Result<StateDict, StateError> {
        let text = serde_json::to_string(&self.0)
            .map_err(|e| StateError::new(format!("cannot write {} as JSON: {e}", std::any::type_name::<T>())))?;
        Ok(StateDict { tensors: Vec::new(), metadata: vec![(JSON_KEY.to_owned(), text)] })
    }
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        let text = state.meta(JSON_KEY).ok_or_else(|| {
            StateError::new(format!(
                "the checkpoint has no `{JSON_KEY}` metadata; it was not saved from a `Json` value"
            ))
        })?;
        self.0 = serde_json::from_str(text)
            .map_err(|e| StateError::new(format!("its JSON does not fit {}: {e}", std::any::type_name::<T>())))?;
        Ok(())
    }
    fn type_name(&self) -> String {
        format!("xmen::checkpoint::Json<{}>", std::any::type_name::<T>())
    }
}

/// A registered object, as the registry sees it.
pub(crate) trait Object: Send + Sync {
    fn snapshot(&self) -> Result<Snapshot, StateError>;
    fn restore(&self, state: &StateDict) -> Result<(), StateError>;
}

struct Entry<T> {
    handle: StateHandle,
    value: Mutex<T>,
}

impl<T: State> Object for Entry<T> {
    fn snapshot(&self) -> Result<Snapshot, StateError> {
        let v = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(Snapshot { type_name: v.type_name(), state: v.state_dict()? })
    }
    fn restore(&self, state: &StateDict) -> Result<(), StateError> {
        self.value.lock().unwrap_or_else(PoisonError::into_inner).load_state_dict(state)
    }
}

type Live = Vec<(StateHandle, Weak<dyn Object>)>;

/// Every live [`Tracked`] object of the process, by handle.
static LIVE: Mutex<Live> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The object behind a handle, while some [`Tracked`] keeps it alive.
pub(crate) fn lookup(handle: StateHandle) -> Option<Arc<dyn Object>> {
    live().iter().find(|(h, _)| *h == handle).and_then(|(_, w)| w.upgrade())
}

/// The state of the object behind `handle`, or an error saying why there is none.
pub(crate) fn snapshot_of(handle: StateHandle) -> Result<Snapshot, String> {
    let object = lookup(handle).ok_or_else(|| gone(handle))?;
    object.snapshot().map_err(|e| e.to_string())
}

fn gone(handle: StateHandle) -> String {
    format!("no live checkpointable object has handle {}; keep its `Tracked` alive while the Monitor runs", handle.0)
}

/// A checkpointable object shared between the training code and the Monitor's hooks.
///
/// The Monitor's scope holds only its handle (`m.set("model", &model)` stores a
/// `Value::State`); the state is copied out of the object only when a checkpoint is taken,
/// so publishing it costs nothing per step. Clones share the object. The training code
/// reaches it with [`Tracked::lock`].
///
/// ```
/// use xmen::checkpoint::Tracked;
/// use xmen::{Tensor, Value};
///
/// let weights = Tracked::new(vec![("w".to_owned(), Tensor::from_f32(&[2], &[0.5, -1.0]))]);
/// let value = Value::from(&weights);
/// assert!(matches!(value, Value::State(h) if h == weights.handle()));
/// weights.lock()[0].1 = Tensor::from_f32(&[2], &[0.0, 0.0]);
/// ```
pub struct Tracked<T> {
    inner: Arc<Entry<T>>,
}

impl<T> Clone for Tracked<T> {
    fn clone(&self) -> Tracked<T> {
        Tracked { inner: Arc::clone(&self.inner) }
    }
}

impl<T: State> Tracked<T> {
    /// Register `value` as checkpointable state and return its shared handle.
    pub fn new(value: T) -> Tracked<T> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let handle = StateHandle(NEXT.fetch_add(1, Ordering::Relaxed));
        let inner = Arc::new(Entry { handle, value: Mutex::new(value) });
        let object: Arc<dyn Object> = inner.clone();
        let mut live = live();
        live.retain(|(_, w)| w.strong_count() > 0);
        live.push((handle, Arc::downgrade(&object)));
        Tracked { inner }
    }
}

impl<T> Tracked<T> {
    /// Borrow the object (training steps, building layers). A hook that checkpoints it waits
    /// for the guard, so do not hold it across a Monitor step.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.inner.value.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The handle hooks see.
    pub fn handle(&self) -> StateHandle {
        self.inner.handle
    }
}

impl<T> std::fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracked<{}>({})", std::any::type_name::<T>(), self.inner.handle.0)
    }
}

impl<T> From<&Tracked<T>> for Value {
    /// The object as a Monitor variable: hooks see its handle.
    fn from(t: &Tracked<T>) -> Value {
        Value::State(t.inner.handle)
    }
}

/// The checkpointable objects a Monitor's hooks may read: every live [`Tracked`] of the
/// process. [`Monitor::builder`](crate::Monitor::builder) installs it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LiveStates;

impl States for LiveStates {
    fn state(&self, state: StateHandle) -> Result<Snapshot, String> {
        snapshot_of(state)
    }
}
