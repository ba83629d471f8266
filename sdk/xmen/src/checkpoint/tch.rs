//! tch (PyTorch 2.13.0) support: a `tch::nn::VarStore` as checkpointable state.
//!
//! [`VarStoreState`] shares the VarStore's variables (tch keeps them behind an `Arc`), so the
//! training code keeps using its `VarStore` unchanged while the Monitor checkpoints it.
//! Saving copies each variable to the CPU as (dtype, shape, bytes); restoring checks every
//! variable's name, dtype and shape first, then copies the values in place without
//! recording gradients, so layers and optimizers built on the VarStore see the new values.
//! tch cannot save optimizer state: for an exact resume use SGD without momentum.

use std::sync::{Arc, Mutex, PoisonError};

use tch::nn::{VarStore, Variables};
use tch::{Device, Kind};
use xmen_core::value::{DType, StateDict, Tensor};

use super::state::{State, Tracked};
use xmen_checkpoint_format::StateError;

fn dtype_of(kind: Kind) -> Result<DType, StateError> {
    Ok(match kind {
        Kind::Bool => DType::Bool,
        Kind::Uint8 => DType::U8,
        Kind::Int8 => DType::I8,
        Kind::Int16 => DType::I16,
        Kind::Int => DType::I32,
        Kind::Int64 => DType::I64,
        Kind::Half => DType::F16,
        Kind::BFloat16 => DType::BF16,
        Kind::Float => DType::F32,
        Kind::Double => DType::F64,
        other => return Err(StateError::new(format!("tensors of kind {other:?} cannot be checkpointed"))),
    })
}

fn kind_of(dtype: DType) -> Result<Kind, StateError> {
    Ok(match dtype {
        DType::Bool => Kind::Bool,
        DType::U8 => Kind::Uint8,
        DType::I8 => Kind::Int8,
        DType::I16 => Kind::Int16,
        DType::I32 => Kind::Int,
        DType::I64 => Kind::Int64,
        DType::F16 => Kind::Half,
        DType::BF16 => Kind::BFloat16,
        DType::F32 => Kind::Float,
        DType::F64 => Kind::Double,
        other => return Err(StateError::new(format!("dtype {} has no tch kind", other.name()))),
    })
}

/// Copy a tch tensor (any device) into an xmen [`Tensor`].
pub fn tensor_from_tch(t: &tch::Tensor) -> Result<Tensor, StateError> {
    let err = |e: tch::TchError| StateError::new(e.to_string());
    let cpu = tch::no_grad(|| t.f_to_device(Device::Cpu).and_then(|c| c.f_contiguous())).map_err(err)?;
    let kind = cpu.f_kind().map_err(err)?;
    let dtype = dtype_of(kind)?;
    let shape: Vec<u64> = cpu.size().iter().map(|&d| d as u64).collect();
    let numel: usize = shape.iter().product::<u64>() as usize;
    let mut data = vec![0u8; numel * dtype.size()];
    cpu.f_copy_data_u8(&mut data, numel).map_err(err)?;
    Ok(Tensor { dtype, shape, data })
}

/// An xmen [`Tensor`] as a new tch CPU tensor.
pub fn tensor_to_tch(t: &Tensor) -> Result<tch::Tensor, StateError> {
    let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
    tch::Tensor::f_from_data_size(&t.data, &shape, kind_of(t.dtype)?).map_err(|e| StateError::new(e.to_string()))
}

fn state_of(vars: &Variables) -> Result<StateDict, StateError> {
    let mut names: Vec<&String> = vars.named_variables.keys().collect();
    names.sort();
    let mut tensors = Vec::with_capacity(names.len());
    for name in names {
        let t = &vars.named_variables[name];
        tensors
            .push((name.clone(), tensor_from_tch(t).map_err(|e| StateError::new(format!("variable `{name}`: {e}")))?));
    }
    Ok(StateDict { tensors, metadata: Vec::new() })
}

fn restore(vars: &mut Variables, state: &StateDict) -> Result<(), StateError> {
    let mut sources = Vec::with_capacity(vars.named_variables.len());
    let mut missing = Vec::new();
    for (name, var) in &vars.named_variables {
        let Some(t) = state.tensor(name) else {
            missing.push(name.clone());
            continue;
        };
        let want: Vec<u64> = var.size().iter().map(|&d| d as u64).collect();
        let kind = var.f_kind().map_err(|e| StateError::new(e.to_string()))?;
        if t.shape != want || kind_of(t.dtype)? != kind {
            return Err(StateError::new(format!(
                "variable `{name}` is {kind:?} of shape {want:?} but the checkpoint has {} of shape {:?}",
                t.dtype.name(),
                t.shape
            )));
        }
        sources.push((name.clone(), tensor_to_tch(t)?));
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(StateError::new(format!(
            "the checkpoint has no tensor for the variables {missing:?}; it was saved from another model"
        )));
    }
    tch::no_grad(|| {
        for (name, src) in &sources {
            if let Some(var) = vars.named_variables.get_mut(name) {
                let device = var.device();
                var.f_copy_(&src.to_device(device)).map_err(|e| StateError::new(format!("variable `{name}`: {e}")))?;
            }
        }
        Ok(())
    })
}

/// The variables of a `tch::nn::VarStore`, shared with it, as checkpointable state.
///
/// ```no_run
/// use tch::{nn, Device};
/// use xmen::checkpoint::{track_var_store, Tracked};
/// let vs = nn::VarStore::new(Device::Cpu);
/// let model = track_var_store(&vs); // keeps sharing `vs`'s variables
/// let m = xmen::Monitor::builder().state("model", &model).ckpt("^model$@1e").build()?;
/// # Ok::<(), xmen::BuildError>(())
/// ```
pub struct VarStoreState {
    vars: Arc<Mutex<Variables>>,
}

impl VarStoreState {
    /// A view of `vs`'s variables (later additions to `vs` included).
    pub fn new(vs: &VarStore) -> VarStoreState {
        VarStoreState { vars: Arc::clone(&vs.variables_) }
    }
}

impl State for VarStoreState {
    fn state_dict(&self) -> Result<StateDict, StateError> {
        state_of(&self.vars.lock().unwrap_or_else(PoisonError::into_inner))
    }
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        restore(&mut self.vars.lock().unwrap_or_else(PoisonError::into_inner), state)
    }
    fn type_name(&self) -> String {
        "tch::nn::VarStore".into()
    }
}

impl State for VarStore {
    fn state_dict(&self) -> Result<StateDict, StateError> {
        state_of(&self.variables_.lock().unwrap_or_else(PoisonError::into_inner))
    }
    fn load_state_dict(&mut self, state: &StateDict) -> Result<(), StateError> {
        restore(&mut self.variables_.lock().unwrap_or_else(PoisonError::into_inner), state)
    }
    fn type_name(&self) -> String {
        "tch::nn::VarStore".into()
    }
}

/// Track `vs`'s variables as checkpointable state (`Tracked::new(VarStoreState::new(vs))`).
pub fn track_var_store(vs: &VarStore) -> Tracked<VarStoreState> {
    Tracked::new(VarStoreState::new(vs))
}
