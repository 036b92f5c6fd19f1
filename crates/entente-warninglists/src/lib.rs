//! MISP warning lists.
