//! Content sniffing of model files. Reads headers only, never tensors.

pub mod safetensors;
