//! The parameters of a model: named tensors (transformers' key names, without the base-model
//! prefix), the module each belongs to, whether it trains, and their counts.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor, Var};
use serde::Serialize;

use super::error::{CandleContext, ModelError, ModelResult};
use super::rng::SeededRng;

/// The module a parameter belongs to, for accounting and freezing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModuleId {
    Embeddings,
    /// Encoder layer `i` (0 = closest to the embeddings).
    Layer(usize),
    Pooler,
    /// The task head (classifier or masked-LM head).
    Head,
}

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embeddings => write!(f, "embeddings"),
            Self::Layer(i) => write!(f, "encoder.layer.{i}"),
            Self::Pooler => write!(f, "pooler"),
            Self::Head => write!(f, "head"),
        }
    }
}

/// How a parameter is initialised when it is not loaded, as transformers' `_init_weights`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// normal(0, std).
    Normal(f64),
    /// normal(0, std) with the padding row set to zero (embeddings with a `padding_idx`).
    NormalZeroRow {
        std: f64,
        row: usize,
    },
    Zeros,
    Ones,
    /// DistilBERT's fixed sinusoidal position table.
    Sinusoidal,
}

/// One parameter the architecture has, before it has values.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
    pub module: ModuleId,
}

impl ParamSpec {
    pub fn new(name: impl Into<String>, shape: &[usize], init: Init, module: ModuleId) -> Self {
        Self { name: name.into(), shape: shape.to_vec(), init, module }
    }

    pub fn elem_count(&self) -> usize {
        self.shape.iter().product()
    }

    /// Fresh values for this parameter.
    pub fn init_tensor(&self, rng: &mut SeededRng, dtype: DType, device: &Device) -> ModelResult<Tensor> {
        let shape = candle_core::Shape::from(self.shape.clone());
        let t = match self.init {
            Init::Normal(std) => rng.normal_tensor(&shape, 0.0, std, dtype, device),
            Init::NormalZeroRow { std, row } => {
                let mut values: Vec<f32> = (0..shape.elem_count()).map(|_| (std * rng.normal()) as f32).collect();
                let width = self.shape.get(1).copied().unwrap_or(1);
                if let Some(r) = values.get_mut(row * width..(row + 1) * width) {
                    r.fill(0.0);
                }
                Tensor::from_vec(values, shape, device).and_then(|t| t.to_dtype(dtype))
            }
            Init::Zeros => Tensor::zeros(shape, dtype, device),
            Init::Ones => Tensor::ones(shape, dtype, device),
            Init::Sinusoidal => sinusoidal_table(self.shape[0], self.shape[1], dtype, device),
        };
        t.ctx(&format!("initialising {}", self.name))
    }
}

/// transformers' `create_sinusoidal_embeddings`: sin on even columns, cos on odd ones.
fn sinusoidal_table(positions: usize, dim: usize, dtype: DType, device: &Device) -> candle_core::Result<Tensor> {
    let mut values = vec![0f32; positions * dim];
    for pos in 0..positions {
        for j in 0..dim {
            let angle = pos as f64 / 10000f64.powf(2.0 * (j / 2) as f64 / dim as f64);
            values[pos * dim + j] = if j % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
        }
    }
    Tensor::from_vec(values, (positions, dim), device)?.to_dtype(dtype)
}

/// A parameter with values. Cloning shares the values and the trainable flag.
#[derive(Clone, Debug)]
pub struct Param {
    inner: Arc<ParamInner>,
}

#[derive(Debug)]
struct ParamInner {
    spec: ParamSpec,
    var: Var,
    trainable: AtomicBool,
}

impl Param {
    pub fn new(spec: ParamSpec, value: Tensor) -> ModelResult<Self> {
        let var = Var::from_tensor(&value).ctx(&spec.name)?;
        Ok(Self { inner: Arc::new(ParamInner { spec, var, trainable: AtomicBool::new(true) }) })
    }

    pub fn name(&self) -> &str {
        &self.inner.spec.name
    }

    pub fn spec(&self) -> &ParamSpec {
        &self.inner.spec
    }

    pub fn module(&self) -> ModuleId {
        self.inner.spec.module
    }

    pub fn var(&self) -> &Var {
        &self.inner.var
    }

    pub fn is_trainable(&self) -> bool {
        self.inner.trainable.load(Ordering::Relaxed)
    }

    pub fn set_trainable(&self, trainable: bool) {
        self.inner.trainable.store(trainable, Ordering::Relaxed);
    }

    /// The value for a forward pass: tracked for gradients when trainable (and gradients are on, see
    /// [`super::ops::no_grad`]), detached otherwise.
    pub fn t(&self) -> Tensor {
        if self.is_trainable() && super::ops::grad_enabled() {
            self.inner.var.as_tensor().clone()
        } else {
            self.inner.var.as_tensor().detach()
        }
    }
}

/// All parameters of a model, in architecture order.
#[derive(Clone, Debug, Default)]
pub struct ParamStore {
    params: Vec<Param>,
    by_name: HashMap<String, usize>,
}

impl ParamStore {
    pub fn push(&mut self, param: Param) {
        self.by_name.insert(param.name().to_string(), self.params.len());
        self.params.push(param);
    }

    pub fn get(&self, name: &str) -> ModelResult<Param> {
        self.by_name
            .get(name)
            .map(|&i| self.params[i].clone())
            .ok_or_else(|| ModelError::MissingPart(format!("parameter {name}")))
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn len(&self) -> usize {
        self.params.len()
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// The variables an optimizer should update (the trainable ones).
    pub fn trainable_vars(&self) -> Vec<Var> {
        self.params.iter().filter(|p| p.is_trainable()).map(|p| p.var().clone()).collect()
    }

    pub fn set_module_trainable(&self, module: ModuleId, trainable: bool) {
        self.params.iter().filter(|p| p.module() == module).for_each(|p| p.set_trainable(trainable));
    }

    pub fn set_all_trainable(&self, trainable: bool) {
        self.params.iter().for_each(|p| p.set_trainable(trainable));
    }

    /// The modules present, in architecture order.
    pub fn modules(&self) -> Vec<ModuleId> {
        let mut modules: Vec<ModuleId> = self.params.iter().map(Param::module).collect();
        modules.sort();
        modules.dedup();
        modules
    }

    pub fn counts(&self) -> ParamCounts {
        ParamCounts::from_params(self.params.iter().map(|p| (p.module(), p.spec().elem_count(), p.is_trainable())))
    }
}

/// Parameter counts of one module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModuleCount {
    pub name: String,
    pub total: usize,
    pub trainable: usize,
}

/// Total and trainable parameter counts, overall and per module (tied weights counted once, as
/// transformers' `num_parameters()`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ParamCounts {
    pub total: usize,
    pub trainable: usize,
    pub modules: Vec<ModuleCount>,
}

impl ParamCounts {
    /// Counts for a planned architecture under a freeze spec, without allocating any values.
    pub fn for_plan(specs: &[ParamSpec], freeze: super::freeze::FreezeSpec, num_layers: usize) -> Self {
        Self::from_params(specs.iter().map(|s| (s.module, s.elem_count(), freeze.trains(s.module, num_layers))))
    }

    pub fn from_params(params: impl Iterator<Item = (ModuleId, usize, bool)>) -> Self {
        let mut per: Vec<(ModuleId, usize, usize)> = Vec::new();
        for (module, n, trainable) in params {
            let t = if trainable { n } else { 0 };
            match per.iter_mut().find(|(m, _, _)| *m == module) {
                Some(entry) => {
                    entry.1 += n;
                    entry.2 += t;
                }
                None => per.push((module, n, t)),
            }
        }
        per.sort_by_key(|(m, _, _)| *m);
        Self {
            total: per.iter().map(|p| p.1).sum(),
            trainable: per.iter().map(|p| p.2).sum(),
            modules: per
                .into_iter()
                .map(|(m, total, trainable)| ModuleCount { name: m.to_string(), total, trainable })
                .collect(),
        }
    }
}
