//! Image references as the Docker reference grammar reads them
//! (distribution's `reference` package): which part is the registry host,
//! Docker Hub's defaults, and the checks a reference must pass before it
//! is pushed to. Credentials' keys, normalized references and OCI pushes
//! all split a reference here, so they never disagree on its registry.

use std::borrow::Cow;

use super::OciError;

/// Docker Hub's host in a normalized reference.
pub const DOCKER_HUB_HOST: &str = "docker.io";

/// A reference's registry host and the rest (repository, tag, digest),
/// as distribution's `splitDockerDomain` splits them: the first path part
/// is a host when it has a `.` or a `:`, is `localhost`, or has an
/// upper-case letter (a repository path cannot); otherwise the host is
/// Docker Hub's, where a one-part name is an official image
/// (`library/NAME`). `index.docker.io` is Docker Hub's old name.
///
/// ```
/// use orch::oci::split_domain;
/// assert_eq!(split_domain("busybox:1"), ("docker.io", "library/busybox:1".into()));
/// assert_eq!(split_domain("localhost:5000/a/b"), ("localhost:5000", "a/b".into()));
/// ```
pub fn split_domain(reference: &str) -> (&str, Cow<'_, str>) {
    let (host, rest) = match reference.split_once('/') {
        Some((h, r)) if h.contains(['.', ':']) || h == "localhost" || h.to_lowercase() != h => (h, r),
        _ => (DOCKER_HUB_HOST, reference),
    };
    let host = if host == "index.docker.io" {
        DOCKER_HUB_HOST
    } else {
        host
    };
    if host == DOCKER_HUB_HOST && !rest.contains('/') {
        (host, Cow::Owned(format!("library/{rest}")))
    } else {
        (host, Cow::Borrowed(rest))
    }
}

/// A reference as Docker's `ParseDockerRef` reads it: registry host
/// ([`split_domain`]), repository and tag (`latest` when none).
pub fn parse_reference(reference: &str) -> Result<(String, String, String), OciError> {
    let bad = |why: &str| OciError::Protocol(format!("invalid reference format{why}"));
    let (reference, digest) = reference.split_once('@').unwrap_or((reference, ""));
    if !digest.is_empty() && !digest.starts_with("sha256:") {
        return Err(bad(""));
    }
    let (rest, tag) = match reference.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (reference, "latest"),
    };
    let (host, name) = split_domain(rest);
    if name.to_lowercase() != name {
        return Err(bad(&format!(": repository name ({name}) must be lowercase")));
    }
    let name_ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c);
    let tag_ok = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    let bare = name.strip_prefix("library/").unwrap_or(&name);
    if bare.is_empty() || !name.chars().all(name_ok) || tag.is_empty() || !tag.chars().all(tag_ok) {
        return Err(bad(""));
    }
    Ok((host.to_string(), name.into_owned(), tag.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cases from distribution's `splitDockerDomain` and
    /// `ParseNormalizedNamed` tests.
    #[test]
    fn hosts_are_split_as_docker_splits_them() {
        let split = |r| {
            let (h, rest) = split_domain(r);
            format!("{h} {rest}")
        };
        assert_eq!(split("busybox"), "docker.io library/busybox");
        assert_eq!(split("acme/web:2"), "docker.io acme/web:2");
        assert_eq!(split("docker.io/busybox"), "docker.io library/busybox");
        assert_eq!(split("index.docker.io/acme/web"), "docker.io acme/web");
        assert_eq!(split("127.0.0.1:5001/a/b"), "127.0.0.1:5001 a/b");
        assert_eq!(split("localhost/a"), "localhost a");
        assert_eq!(split("Registry/a"), "Registry a");
        assert_eq!(split("reg.io/a@sha256:00"), "reg.io a@sha256:00");
    }

    #[test]
    fn references_pushed_to_are_checked() {
        let ok = |r| {
            parse_reference(r)
                .map(|(h, n, t)| format!("{h} {n} {t}"))
                .map_err(|e| e.to_string())
        };
        assert_eq!(ok("busybox").unwrap(), "docker.io library/busybox latest");
        assert_eq!(ok("docker.io/busybox:1").unwrap(), "docker.io library/busybox 1");
        assert_eq!(ok("localhost:5000/team/app:v2").unwrap(), "localhost:5000 team/app v2");
        assert_eq!(ok("reg.io/a:1@sha256:00").unwrap(), "reg.io a 1");
        let err = ok("Busybox").unwrap_err();
        assert!(
            err.contains("repository name (library/Busybox) must be lowercase"),
            "{err}"
        );
        assert!(ok("reg.io/a:b@md5:00").is_err());
        assert!(ok("reg.io/a:").is_err());
        assert!(ok("reg.io/").is_err());
        assert!(ok("docker.io/").is_err());
        assert!(ok("a b").is_err());
    }
}
