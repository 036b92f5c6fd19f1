//! Search and correlation over a reader's released view.
