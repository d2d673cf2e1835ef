//! What the Embeddings page shows, computed without any UI: a token's vector (input embedding or any
//! layer's contextual vector), nearest vocabulary neighbours by cosine, attention maps per layer and head,
//! sentence vectors of a dataset and their 2D projection by PCA.

pub mod attention;
pub mod inspect;
pub mod neighbours;
pub mod pca;
pub mod projection;
pub mod vectors;

pub use attention::{attention_maps, AttentionMaps};
pub use inspect::{inspect, EncoderModel, Inspection};
pub use neighbours::{word_neighbours, Neighbour, VocabIndex, WordNeighbours};
pub use pca::{Pca, PcaError};
pub use projection::{project, sentence_vectors, Projection, SentenceOptions};
pub use vectors::{token_vectors, TokenVectors, VectorSource};
