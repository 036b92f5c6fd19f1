//! Integration tests of the `entente` binary, one module per subcommand family. Each test runs
//! the real binary and checks its stdout, stderr and exit code.

mod burden;
mod picture;
mod registry;
mod util;
