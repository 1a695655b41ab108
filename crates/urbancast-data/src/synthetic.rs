//! Seeded synthetic multi-city generator.
