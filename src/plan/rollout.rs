//! The engine work of a one-host rolling update (`compose::rollout`): the
//! policy (batches, gates, failure actions) lives in the primitive above;
//! here are the steps it is made of. A new replica is created with
//! compose's numbering, labels and config hash (so `docker compose` sees a
//! current container) but *hidden*: on its networks with its container
//! name only, not the service's aliases, so no client reaches it before
//! it is healthy and gated. `join` gives it the aliases; `retire` takes an
//! old one out of DNS, waits the drain period and stops it, keeping it
//! (parked) until the rollout succeeds so a rollback can start the very
//! same containers again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::models::{EndpointSettings, NetworkConnectRequest, NetworkDisconnectRequest};
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::apply::{ApplyOptions, Ctx, Event};
use super::containers::{create_only, start};
use super::desired::{Desired, ServiceSpec};
use crate::error::{Error, Result};

/// One container of the service as a rollout sees it.
#[derive(Clone, Debug)]
pub struct Replica {
    pub id: String,
    pub name: String,
    pub number: usize,
    /// Carries the wanted configuration (config hash and image ID).
    pub current: bool,
    /// Has the service's aliases on its first network (clients reach it).
    pub joined: bool,
    pub running: bool,
    /// Its endpoints as they were before `retire` took it off its
    /// networks, to put it back on a rollback.
    pub endpoints: Vec<(String, EndpointSettings)>,
}

/// A container's health now: `(state, health, last check's output)`;
/// health is healthy | unhealthy | starting | none.
pub struct Health {
    pub state: String,
    pub health: String,
    pub output: String,
}

pub struct Rollout {
    ctx: Ctx,
    svc: ServiceSpec,
    hidden: ServiceSpec,
    pub image_id: String,
}

impl Rollout {
    /// Prepares the rollout of `service` to its configuration in `desired`:
    /// its image is pulled when missing.
    pub async fn new(
        d: Docker,
        desired: Arc<Desired>,
        service: &str,
        timeout: Option<i64>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Result<Rollout> {
        let svc = desired
            .service(service)
            .cloned()
            .ok_or_else(|| Error::usage(format!("no such service: {service}")))?;
        let opts = ApplyOptions {
            timeout,
            ..Default::default()
        };
        let ctx = Ctx::for_service(d, desired, opts, events, service);
        let image_id = image_id(&ctx, &svc).await?;
        // The same service without its aliases: what a new replica is
        // created as (create_only still gives it its container name).
        let mut hidden = svc.clone();
        for (_, aliases) in hidden.networks.iter_mut() {
            aliases.clear();
        }
        Ok(Rollout {
            ctx,
            svc,
            hidden,
            image_id,
        })
    }

    /// Labels every replica this rollout creates carries (its history).
    pub fn label_new(&mut self, labels: Vec<(String, String)>) {
        for (k, v) in labels {
            self.hidden.body["Labels"][k] = serde_json::Value::String(v);
        }
    }

    pub fn service(&self) -> &ServiceSpec {
        &self.svc
    }

    /// The service's containers, by number.
    pub async fn replicas(&self) -> Result<Vec<Replica>> {
        let all = super::observed::containers(&self.ctx.d, &self.ctx.desired.project).await?;
        let first_net = self.svc.networks.first().map(|(n, _)| n.clone());
        let mut out = Vec::new();
        for c in all.into_iter().filter(|c| c.service == self.svc.name) {
            let joined = match &first_net {
                Some(net) => self.aliases(&c.id, net).await?.contains(&self.svc.name),
                None => true,
            };
            out.push(Replica {
                current: c.hash == self.svc.hash && c.image == self.image_id,
                running: c.state == "running",
                joined,
                id: c.id,
                name: c.name,
                number: c.number,
                endpoints: Vec::new(),
            });
        }
        out.sort_by_key(|r| r.number);
        Ok(out)
    }

    async fn aliases(&self, id: &str, net: &str) -> Result<Vec<String>> {
        let info = self.inspect(id).await?;
        Ok(info
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(net))
            .and_then(|e| e.aliases)
            .unwrap_or_default())
    }

    async fn inspect(&self, id: &str) -> Result<bollard::models::ContainerInspectResponse> {
        self.ctx
            .d
            .inspect_container(id, None::<qp::InspectContainerOptions>)
            .await
            .map_err(|e| Error::from_engine(format!("inspecting container {id}"), &e))
    }

    /// Creates and starts replica `number`, hidden from the service's name.
    pub async fn launch(&self, number: usize) -> Result<Replica> {
        let name = self.svc.container_name(&self.ctx.desired.project, number);
        let t = Instant::now();
        self.ctx.emit("Container", &name, "Creating", false, t);
        let id = create_only(
            &self.ctx,
            &self.hidden,
            number,
            &name,
            &name,
            &self.image_id,
            None,
            None,
        )
        .await
        .inspect_err(|e| self.ctx.fail("Container", &name, e, t))?;
        self.ctx.emit("Container", &name, "Created", false, t);
        start(&self.ctx, &self.svc.name, &name, &id).await?;
        Ok(Replica {
            id,
            name,
            number,
            current: true,
            joined: false,
            running: true,
            endpoints: Vec::new(),
        })
    }

    /// The container's health, asked of the engine.
    pub async fn health(&self, id: &str) -> Result<Health> {
        let st = self.inspect(id).await?.state.unwrap_or_default();
        let h = st.health.unwrap_or_default();
        let health = match h.status.map(|s| s.to_string()) {
            Some(s) if !s.is_empty() && s != "none" => s,
            _ => "none".to_string(),
        };
        let output = h
            .log
            .unwrap_or_default()
            .last()
            .map(|r| {
                format!(
                    "last health check exited {}: {:?}",
                    r.exit_code.unwrap_or_default(),
                    r.output.clone().unwrap_or_default().trim()
                )
            })
            .unwrap_or_default();
        Ok(Health {
            state: st.status.map(|s| s.to_string()).unwrap_or_default(),
            health,
            output,
        })
    }

    /// Waits until `r` is healthy (or, without a healthcheck, running) and
    /// has stayed so for `stable`; an error says why not.
    pub async fn wait_ready(&self, r: &Replica, stable: Duration, deadline: Duration) -> Result<()> {
        let t = Instant::now();
        let mut since: Option<Instant> = None;
        loop {
            let h = self.health(&r.id).await?;
            if h.state != "running" {
                return Err(format!("{} is {}, not running {}", r.name, h.state, h.output)
                    .trim_end()
                    .into());
            }
            if h.health == "unhealthy" {
                return Err(format!("{} is unhealthy; {}", r.name, h.output).into());
            }
            if h.health == "healthy" || h.health == "none" {
                if since.get_or_insert_with(Instant::now).elapsed() >= stable {
                    self.ctx.emit("Container", &r.name, "Healthy", true, t);
                    return Ok(());
                }
            } else {
                since = None;
            }
            if t.elapsed() >= deadline {
                return Err(format!(
                    "{} not healthy within the progress deadline ({}s, health: {}) {}",
                    r.name,
                    deadline.as_secs_f64(),
                    h.health,
                    h.output
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Gives `r` the service's aliases on each of its networks: clients
    /// resolving the service's name reach it from now on. The engine keeps
    /// an endpoint's aliases fixed, so it is disconnected and connected
    /// again (it served no one by that name yet).
    pub async fn join(&self, r: &mut Replica) -> Result<()> {
        let t = Instant::now();
        self.join_networks(r)
            .await
            .map_err(|e| e.within(format!("joining {} to service {}", r.name, self.svc.name)))?;
        r.joined = true;
        self.ctx.emit("Container", &r.name, "Joined", true, t);
        Ok(())
    }

    async fn join_networks(&self, r: &Replica) -> Result<()> {
        let endpoints = self.endpoints(&r.id).await?;
        for (net, mut ep) in endpoints {
            let mut aliases = ep.aliases.take().unwrap_or_default();
            if let Some((_, want)) = self.svc.networks.iter().find(|(n, _)| *n == net) {
                for a in want {
                    if !aliases.contains(a) {
                        aliases.push(a.clone());
                    }
                }
            }
            ep.aliases = Some(aliases);
            self.endpoint(&r.id, &net, None).await?;
            self.endpoint(&r.id, &net, Some(ep)).await?;
        }
        Ok(())
    }

    /// The container's endpoints as settings to connect with again.
    async fn endpoints(&self, id: &str) -> Result<Vec<(String, EndpointSettings)>> {
        let nets = self
            .inspect(id)
            .await?
            .network_settings
            .and_then(|n| n.networks)
            .unwrap_or_default();
        let mut out: Vec<(String, EndpointSettings)> = nets
            .into_iter()
            .map(|(net, e)| {
                let ep = EndpointSettings {
                    ipam_config: e.ipam_config,
                    links: e.links,
                    aliases: e.aliases,
                    driver_opts: e.driver_opts,
                    ..Default::default()
                };
                (net, ep)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Connects container `id` to `net` with `ep`, or, given none,
    /// disconnects it.
    async fn endpoint(&self, id: &str, net: &str, ep: Option<EndpointSettings>) -> Result<()> {
        let (d, container) = (&self.ctx.d, id.to_string());
        let (what, done) = match ep {
            Some(ep) => {
                let req = NetworkConnectRequest {
                    container,
                    endpoint_config: Some(ep),
                };
                (format!("connecting {id} to {net}"), d.connect_network(net, req).await)
            }
            None => {
                let req = NetworkDisconnectRequest {
                    container,
                    force: Some(false),
                };
                (
                    format!("disconnecting {id} from {net}"),
                    d.disconnect_network(net, req).await,
                )
            }
        };
        done.map_err(|e| Error::from_engine(what, &e))
    }

    /// Drains `r`: off its networks (out of DNS), `drain` for requests in
    /// flight, then stopped. It stays (parked, its endpoints recorded)
    /// until `remove`; `restore` starts it again.
    pub async fn retire(&self, r: &mut Replica, drain: Duration) -> Result<()> {
        let t = Instant::now();
        self.ctx.emit("Container", &r.name, "Draining", false, t);
        if r.running {
            r.endpoints = self.endpoints(&r.id).await?;
            for (net, _) in &r.endpoints {
                self.endpoint(&r.id, net, None).await?;
            }
            r.joined = false;
            tokio::time::sleep(drain).await;
        }
        self.ctx.emit("Container", &r.name, "Stopping", false, t);
        let stop = qp::StopContainerOptions {
            t: self.ctx.opts.timeout.map(|t| t as i32),
            signal: None,
        };
        let spec = self.ctx.desired.service(&self.svc.name);
        super::hooks::pre_stop(&self.ctx.d, spec, &r.id).await?;
        match crate::docker::patient(&self.ctx.d, self.ctx.opts.timeout)
            .stop_container(&r.id, Some(stop))
            .await
        {
            Ok(()) => {}
            Err(e) if matches!(crate::docker::status(&e), Some(304) | Some(404)) => {}
            Err(e) => return Err(Error::from_engine(format!("stopping {}", r.name), &e)),
        }
        r.running = false;
        self.ctx.emit("Container", &r.name, "Stopped", true, t);
        Ok(())
    }

    /// Puts a parked replica back on its networks, hidden from the
    /// service's name (its own name only, so no request reaches it before
    /// it listens), and starts it; `join` gives it the name once ready.
    pub async fn restore(&self, r: &mut Replica) -> Result<()> {
        let t = Instant::now();
        self.ctx.emit("Container", &r.name, "Restoring", false, t);
        let now: Vec<String> = self.endpoints(&r.id).await?.into_iter().map(|(n, _)| n).collect();
        for (net, ep) in &r.endpoints {
            if !now.contains(net) {
                let service: Vec<&String> = self
                    .svc
                    .networks
                    .iter()
                    .filter(|(n, _)| n == net)
                    .flat_map(|(_, a)| a)
                    .collect();
                let mut hidden = ep.clone();
                hidden.aliases = ep
                    .aliases
                    .clone()
                    .map(|a| a.into_iter().filter(|x| !service.contains(&x)).collect());
                self.endpoint(&r.id, net, Some(hidden)).await?;
            }
        }
        self.ctx
            .d
            .start_container(&r.id, None::<qp::StartContainerOptions>)
            .await
            .map_err(|e| Error::from_engine(format!("starting {}", r.name), &e))?;
        r.running = true;
        r.joined = false;
        self.ctx.emit("Container", &r.name, "Started", true, t);
        Ok(())
    }

    /// Stops (if running) and removes `r`.
    pub async fn remove(&self, r: &Replica) -> Result<()> {
        let t = Instant::now();
        self.ctx.emit("Container", &r.name, "Removing", false, t);
        let opts = qp::RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        match crate::docker::remove_container(&self.ctx.d, &r.id, opts).await {
            Ok(()) => {}
            Err(e) if crate::docker::status(&e) == Some(404) => {}
            Err(e) => return Err(Error::from_engine(format!("removing {}", r.name), &e)),
        }
        self.ctx.emit("Container", &r.name, "Removed", true, t);
        Ok(())
    }
}

/// The ID of `svc`'s image, pulled first when the engine lacks it.
async fn image_id(ctx: &Ctx, svc: &ServiceSpec) -> Result<String> {
    if let Ok(i) = ctx.d.inspect_image(&svc.image).await {
        return Ok(i.id.unwrap_or_default());
    }
    let t = Instant::now();
    ctx.emit("Image", &svc.image, "Pulling", false, t);
    let opts = qp::CreateImageOptions {
        from_image: Some(svc.image.clone()),
        ..Default::default()
    };
    let mut pull = ctx.d.create_image(Some(opts), None, None);
    while let Some(r) = pull.next().await {
        r.map_err(|e| Error::from_engine(format!("service {}: pulling {}", svc.name, svc.image), &e))?;
    }
    ctx.emit("Image", &svc.image, "Pulled", true, t);
    let i = ctx
        .d
        .inspect_image(&svc.image)
        .await
        .map_err(|e| Error::from_engine(format!("service {}: image {}", svc.name, svc.image), &e))?;
    Ok(i.id.unwrap_or_default())
}

/// Numbers already taken by the service's containers.
pub fn highest(replicas: &[Replica]) -> usize {
    replicas.iter().map(|r| r.number).max().unwrap_or(0)
}
