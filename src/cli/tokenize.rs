//! `lm-workbench tokenize`.

use std::io::Write;

use serde::Serialize;

use crate::core::hub::HubSettings;
use crate::core::model_source::{load_model, ModelSpec};
use crate::core::text::tokenizer::{EncodeRequest, Padding};
use crate::core::CoreError;

#[derive(Debug, clap::Args)]
pub struct TokenizeArgs {
    /// A model folder, a config.json, a Hub repo id (owner/name[@revision]) or builtin:demo.
    #[arg(long)]
    pub model: String,
    /// The text to encode.
    #[arg(long)]
    pub text: String,
    /// A second text: encodes a sentence pair (token_type_ids 0, then 1).
    #[arg(long)]
    pub pair: Option<String>,
    /// Truncate to this many tokens (longest first for pairs).
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Pad to --max-length (as padding="max_length").
    #[arg(long, requires = "max_length")]
    pub padding: bool,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct TokenizeJson<'a> {
    input_ids: &'a [u32],
    token_type_ids: &'a [u32],
    attention_mask: &'a [u32],
    tokens: &'a [String],
    offsets: &'a [(usize, usize)],
}

pub fn run(args: &TokenizeArgs) -> Result<(), CoreError> {
    let spec = ModelSpec::parse(&args.model)?;
    let model = load_model(&spec, &HubSettings::from_env(), &mut |_, _| {})?;
    let request = EncodeRequest {
        text: args.text.clone(),
        pair: args.pair.clone(),
        max_length: args.max_length,
        padding: if args.padding { Padding::MaxLength } else { Padding::None },
    };
    let enc = model.tokenizer.encode(&request)?;
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let json = TokenizeJson {
            input_ids: &enc.input_ids,
            token_type_ids: &enc.token_type_ids,
            attention_mask: &enc.attention_mask,
            tokens: &enc.tokens,
            offsets: &enc.offsets,
        };
        let text = serde_json::to_string(&json).map_err(|e| CoreError::Tokenize(e.to_string()))?;
        writeln!(out, "{text}")
    } else {
        print_table(&mut out, &enc)
    };
    // A closed pipe (e.g. `| head`) is not an error worth a message.
    let _ = written;
    Ok(())
}

fn print_table(out: &mut impl Write, enc: &crate::core::text::tokenizer::EncodedText) -> std::io::Result<()> {
    writeln!(out, "{:>5}  {:<20} {:>7}  {:>4}  {:>4}  offsets", "#", "token", "id", "type", "mask")?;
    for i in 0..enc.len() {
        let (s, e) = enc.offsets[i];
        writeln!(
            out,
            "{i:>5}  {:<20} {:>7}  {:>4}  {:>4}  {s}..{e}",
            enc.tokens[i], enc.input_ids[i], enc.token_type_ids[i], enc.attention_mask[i]
        )?;
    }
    Ok(())
}
