//! Where a model argument points: a local path, or a model in a local
//! cache named by a URI (`hf://ORG/NAME[@REVISION]`).

use modelseal::Result;
use modelseal::source::{HfSource, LocalSource, ModelSource, hf_home};
use std::path::Path;

/// The model source a command-line model argument names.
pub fn model_source(arg: &Path) -> Result<Box<dyn ModelSource>> {
    if let Some(text) = arg.to_str()
        && HfSource::is_uri(text)
    {
        let hub = hf_home().ok_or_else(|| {
            modelseal::Error::Usage(format!(
                "{text}: cannot find the Hugging Face cache (set HF_HOME or HF_HUB_CACHE)"
            ))
        })?;
        return Ok(Box::new(HfSource::resolve(text, &hub)?));
    }
    Ok(Box::new(LocalSource::new(arg)))
}
