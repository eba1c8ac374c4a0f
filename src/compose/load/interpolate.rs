//! Interpolation of a parsed file: every string value's `${VAR}`, then the
//! casts compose-go applies at typed paths (`ports.[].target` → int).

use std::collections::HashMap;

use super::Files;
use crate::compose::error::LoadError;
use crate::compose::interp;
use crate::compose::yaml::{self, Node, Value as Y};

/// Interpolates every string value (not keys), tracking the path for errors.
pub(super) fn interpolate_tree(
    n: &mut Node,
    path: &str,
    env: &HashMap<String, String>,
    files: &Files,
    unset: &mut Vec<String>,
) -> Result<(), LoadError> {
    Walk { env, files, unset }.tree(n, path)
}

/// What a walk over the tree reads variables from, words errors with, and
/// collects the unset variables' names in.
struct Walk<'a> {
    env: &'a HashMap<String, String>,
    files: &'a Files,
    unset: &'a mut Vec<String>,
}

impl Walk<'_> {
    fn tree(&mut self, n: &mut Node, path: &str) -> Result<(), LoadError> {
        match &mut n.value {
            Y::Str(s) => {
                if s.contains('$') {
                    self.string(n, path)?;
                }
                // compose-go casts the strings at some paths, quoted or not.
                if let (Y::Str(s), Some(cast)) = (&n.value, cast_for(path)) {
                    n.value = cast_value(s, cast).map_err(|e| {
                        self.files.error_at(
                            n,
                            format!("error while interpolating {path}: failed to cast to expected type: {e}"),
                        )
                    })?;
                }
            }
            Y::Seq(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.tree(item, &format!("{path}.[{i}]"))?;
                }
            }
            Y::Map(entries) => {
                for (k, v) in entries.iter_mut() {
                    let key = k.scalar_text().unwrap_or_default();
                    let p = if path.is_empty() { key } else { format!("{path}.{key}") };
                    self.tree(v, &p)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Interpolates one string node in place.
    fn string(&mut self, n: &mut Node, path: &str) -> Result<(), LoadError> {
        let Y::Str(s) = &n.value else { return Ok(()) };
        match interp::interpolate(s, self.env, self.unset) {
            Ok(v) => {
                // Unquoted values are re-typed after interpolation
                // (`${PORT}` → 8080 is a number).
                n.value = match yaml::resolve_plain(&v) {
                    _ if n.quoted => Y::Str(v),
                    Y::Null => Y::Str(v),
                    typed => typed,
                };
                Ok(())
            }
            Err(interp::Error::Invalid) => {
                let mut e = self
                    .files
                    .error_at(n, format!("invalid interpolation format for {path}"));
                e.help = Some("You may need to escape any $ with another $.".into());
                Err(e)
            }
            Err(interp::Error::Required { name, message }) => Err(self.files.error_at(
                n,
                format!("error while interpolating {path}: required variable {name} is missing a value: {message}"),
            )),
        }
    }
}

#[derive(Clone, Copy)]
enum Cast {
    Int,
    Int64,
    Float,
    Bool,
}

/// compose-go converts the strings at these paths after interpolation
/// (its `interpolateTypeCastMapping`); `*` is one key, `[]` a list item.
const CASTS: &[(&str, Cast)] = &[
    ("services.*.configs.[].mode", Cast::Int),
    ("services.*.cpu_count", Cast::Int64),
    ("services.*.cpu_percent", Cast::Float),
    ("services.*.cpu_period", Cast::Int64),
    ("services.*.cpu_quota", Cast::Int64),
    ("services.*.cpu_rt_period", Cast::Int64),
    ("services.*.cpu_rt_runtime", Cast::Int64),
    ("services.*.cpus", Cast::Float),
    ("services.*.cpu_shares", Cast::Int64),
    ("services.*.init", Cast::Bool),
    ("services.*.deploy.replicas", Cast::Int),
    ("services.*.deploy.update_config.parallelism", Cast::Int),
    ("services.*.deploy.update_config.max_failure_ratio", Cast::Float),
    ("services.*.deploy.rollback_config.parallelism", Cast::Int),
    ("services.*.deploy.rollback_config.max_failure_ratio", Cast::Float),
    ("services.*.deploy.restart_policy.max_attempts", Cast::Int),
    ("services.*.deploy.placement.max_replicas_per_node", Cast::Int),
    ("services.*.healthcheck.retries", Cast::Int),
    ("services.*.healthcheck.disable", Cast::Bool),
    ("services.*.oom_kill_disable", Cast::Bool),
    ("services.*.oom_score_adj", Cast::Int64),
    ("services.*.pids_limit", Cast::Int64),
    ("services.*.ports.[].target", Cast::Int),
    ("services.*.privileged", Cast::Bool),
    ("services.*.read_only", Cast::Bool),
    ("services.*.scale", Cast::Int),
    ("services.*.secrets.[].mode", Cast::Int),
    ("services.*.stdin_open", Cast::Bool),
    ("services.*.tty", Cast::Bool),
    ("services.*.ulimits.*", Cast::Int),
    ("services.*.ulimits.*.hard", Cast::Int),
    ("services.*.ulimits.*.soft", Cast::Int),
    ("volumes.*.external", Cast::Bool),
    ("networks.*.external", Cast::Bool),
    ("networks.*.internal", Cast::Bool),
    ("configs.*.external", Cast::Bool),
    ("secrets.*.external", Cast::Bool),
];

fn cast_for(path: &str) -> Option<Cast> {
    // Called for every string in the file: reject by the last key first,
    // split patterns once.
    static PATTERNS: std::sync::OnceLock<Vec<(Vec<&'static str>, Cast)>> = std::sync::OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| CASTS.iter().map(|(p, c)| (p.split('.').collect(), *c)).collect());
    let last = path.rsplit('.').next()?;
    let known_last = patterns.iter().any(|(p, _)| p.last() == Some(&last));
    if !known_last && !path.contains(".ulimits.") {
        return None;
    }
    let segs: Vec<&str> = path.split('.').collect();
    patterns.iter().find_map(|(pat, cast)| {
        let same = pat.len() == segs.len()
            && pat.iter().zip(&segs).all(|(p, s)| match *p {
                "*" => !s.starts_with('['),
                "[]" => s.starts_with('['),
                _ => p == s,
            });
        same.then_some(*cast)
    })
}

/// A string as the type compose-go casts it to, or Go's error text.
fn cast_value(s: &str, cast: Cast) -> Result<Y, String> {
    match cast {
        Cast::Int => s
            .parse::<i64>()
            .map(Y::Int)
            .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax")),
        Cast::Int64 => s
            .parse::<i64>()
            .map(Y::Int)
            .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: invalid syntax")),
        Cast::Float => s
            .parse::<f64>()
            .map(Y::Float)
            .map_err(|_| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
        Cast::Bool => match s.to_lowercase().as_str() {
            "true" | "y" | "yes" | "on" => Ok(Y::Bool(true)),
            "false" | "n" | "no" | "off" => Ok(Y::Bool(false)),
            _ => Err(format!("invalid boolean: {s}")),
        },
    }
}
