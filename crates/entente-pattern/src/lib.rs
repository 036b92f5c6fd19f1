//! The STIX 2.1 patterning language.
