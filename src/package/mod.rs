//! Export packages for access requests: one ZIP of everything held about a person, which
//! can run past a gigabyte. It is written as a stream, the ZIP straight into the sealing
//! writer straight into the file, so the process stays within a small, fixed memory
//! budget whatever the package's size, and nothing is ever whole in memory.
//!
//! The package sits on disk until the requester downloads it, so it is encrypted at rest
//! ([`sealed`]) and authenticated chunk by chunk when read back: a package changed or cut
//! short on disk fails to open instead of handing out altered data.

pub mod sealed;
pub mod zip;
