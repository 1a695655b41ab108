//! Readers for the field's common city-flow formats.
