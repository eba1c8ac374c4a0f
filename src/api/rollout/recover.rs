//! What follows a failed rollout: back to the old replicas (rollback), or
//! holding where it stopped (pause, continue).

use super::{Policy, Run};
use crate::api::RhaiResult;
use crate::bridge;
use crate::plan::rollout::Replica;

/// Back to the old replicas: each parked one started again (and healthy)
/// before the new one it replaced leaves, in batches of the rollback
/// policy.
pub(super) fn roll_back(run: &mut Run, p: &Policy) -> RhaiResult<crate::error::Result<()>> {
    run.say("Rolling back")?;
    let (stable, deadline) = (run.min_healthy, run.deadline);
    while !run.parked.is_empty() || !run.created.is_empty() {
        let k = p.batch.min(run.parked.len());
        let mut back: Vec<Replica> = run.parked.split_off(run.parked.len() - k);
        let r = &run.r;
        let restored = bridge::block_on(async {
            let mut out = Vec::new();
            for rep in back.iter_mut() {
                out.push(r.restore(rep).await);
            }
            let waits =
                futures_util::future::join_all(back.iter().map(|rep| r.wait_ready(rep, stable, deadline))).await;
            let ready = out.into_iter().chain(waits).collect::<Result<Vec<_>, _>>();
            // Ready: the service's name again.
            if ready.is_err() {
                return Ok(ready);
            }
            let mut joined = Vec::new();
            for rep in back.iter_mut() {
                joined.push(r.join(rep).await);
            }
            Ok(joined.into_iter().collect::<Result<Vec<_>, _>>())
        })?;
        run.flush()?;
        if let Err(e) = restored {
            return Ok(Err(e.within("rollback")));
        }
        run.old.extend(back);
        let m = if run.parked.is_empty() {
            run.created.len()
        } else {
            k.max(1).min(run.created.len())
        };
        let gone: Vec<Replica> = run.created.split_off(run.created.len() - m);
        let gone_ids: Vec<String> = gone.iter().map(|g| g.id.clone()).collect();
        let drain = run.drain;
        let r = &run.r;
        let removed = bridge::block_on(async {
            let mut out = Vec::new();
            for mut rep in gone {
                out.push(r.retire(&mut rep, drain).await.and(r.remove(&rep).await));
            }
            Ok(out.into_iter().collect::<Result<Vec<_>, _>>())
        })?;
        run.flush()?;
        if let Err(e) = removed {
            return Ok(Err(e.within("rollback")));
        }
        run.fresh.retain(|f| !gone_ids.contains(&f.id));
        if !p.delay.is_zero() && !run.parked.is_empty() {
            bridge::sleep(p.delay)?;
        }
    }
    Ok(Ok(()))
}

/// After a failure under `pause` or `continue`: left as it is (new and
/// old replicas side by side), but never short of replicas (stop-first
/// made room for ones that failed); the rest of the parked ones removed.
pub(super) fn hold(run: &mut Run, want: usize, paused: bool) -> RhaiResult<()> {
    let missing = want.saturating_sub(run.fresh.len() + run.old.len());
    let mut back: Vec<Replica> = run.parked.drain(..missing.min(run.parked.len())).collect();
    let (stable, deadline) = (run.min_healthy, run.deadline);
    for rep in back.iter_mut() {
        let r = &run.r;
        run.step(async {
            r.restore(rep).await?;
            r.wait_ready(rep, stable, deadline).await?;
            r.join(rep).await
        })?
        .ok();
    }
    run.old.extend(back);
    let parked = std::mem::take(&mut run.parked);
    for rep in &parked {
        let r = &run.r;
        run.step(r.remove(rep))?.ok();
    }
    run.say(if paused { "Paused" } else { "Failed" })
}
