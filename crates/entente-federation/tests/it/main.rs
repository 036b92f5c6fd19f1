//! Federations of real nodes on loopback (in one process, real TLS and stores): what each nation
//! ends up holding, recall, restart, and every kind of bad input at the inbox.

mod harness;
mod federation;
mod faults;
mod property;
mod oracle;
