//! Content digests as OCI and the docker CLI write them
//! (`sha256:<hex>`), for scripts that show or compare them (`swarm ca`
//! prints the desired root CA's digest while a rotation converges).
//!
//! ```rhai
//! print(sha256("hello"));   // sha256:2cf24dba…
//! ```

use rhai::plugin::*;

#[export_module]
pub mod api {
    /// The SHA-256 digest of `text`'s UTF-8 bytes, as go-digest's
    /// `FromBytes` prints it: `sha256:` and 64 lower-case hex digits.
    ///
    /// ```rhai
    /// let d = sha256(swarm::inspect().TLSInfo.TrustRoot);
    /// ```
    pub fn sha256(text: &str) -> String {
        use sha2::Digest;
        format!("sha256:{:x}", sha2::Sha256::digest(text.as_bytes()))
    }
}
