//! Which parameters train: `classifier` (the head only), `top:K` (the top K encoder layers, the pooler
//! and the head), `embeddings` (everything but the embeddings) or `none` (everything).

use std::fmt;
use std::str::FromStr;

use super::params::{ModuleId, ParamStore};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreezeSpec {
    /// Everything frozen but the task head.
    Classifier,
    /// The top K encoder layers, the pooler and the head train.
    Top(usize),
    /// Nothing frozen.
    None,
    /// Only the embeddings frozen: the encoder layers, the pooler and the head train.
    Embeddings,
}

impl FromStr for FreezeSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        match s {
            "classifier" | "head" => Ok(Self::Classifier),
            "none" => Ok(Self::None),
            "embeddings" => Ok(Self::Embeddings),
            _ => match s.strip_prefix("top:").map(str::parse::<usize>) {
                Some(Ok(k)) => Ok(Self::Top(k)),
                _ => Err(format!("unknown freeze spec {s:?}: expected classifier, top:K, embeddings or none")),
            },
        }
    }
}

impl fmt::Display for FreezeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Classifier => write!(f, "classifier"),
            Self::Top(k) => write!(f, "top:{k}"),
            Self::None => write!(f, "none"),
            Self::Embeddings => write!(f, "embeddings"),
        }
    }
}

impl FreezeSpec {
    /// Whether a module trains under this spec, for a model with `num_layers` encoder layers.
    pub fn trains(self, module: ModuleId, num_layers: usize) -> bool {
        match (self, module) {
            (Self::None, _) | (_, ModuleId::Head) => true,
            (Self::Classifier, _) => false,
            (Self::Embeddings, m) => m != ModuleId::Embeddings,
            (Self::Top(_), ModuleId::Pooler) => true,
            (Self::Top(k), ModuleId::Layer(i)) => i + k >= num_layers,
            (Self::Top(k), ModuleId::Embeddings) => k > num_layers,
        }
    }

    pub fn apply(self, store: &ParamStore, num_layers: usize) {
        for p in store.params() {
            p.set_trainable(self.trains(p.module(), num_layers));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_select_modules() {
        assert_eq!("classifier".parse::<FreezeSpec>().unwrap(), FreezeSpec::Classifier);
        assert_eq!("top:2".parse::<FreezeSpec>().unwrap(), FreezeSpec::Top(2));
        assert!("top:x".parse::<FreezeSpec>().is_err());
        assert!("bottom".parse::<FreezeSpec>().is_err());
        let top2 = FreezeSpec::Top(2);
        assert!(
            !top2.trains(ModuleId::Layer(3), 6)
                && top2.trains(ModuleId::Layer(4), 6)
                && top2.trains(ModuleId::Layer(5), 6)
        );
        assert!(!top2.trains(ModuleId::Embeddings, 6) && top2.trains(ModuleId::Pooler, 6));
        assert!(!FreezeSpec::Classifier.trains(ModuleId::Pooler, 6));
        assert_eq!("embeddings".parse::<FreezeSpec>().unwrap(), FreezeSpec::Embeddings);
        let emb = FreezeSpec::Embeddings;
        assert!(
            !emb.trains(ModuleId::Embeddings, 6)
                && emb.trains(ModuleId::Layer(0), 6)
                && emb.trains(ModuleId::Pooler, 6)
        );
    }
}
