//! Every primitive's options, declared in one place: each struct is what
//! one primitive (or one nested map of it) accepts, read with
//! [`super::opts::read`], so its fields are the options `orch` checks
//! keys against and `orch docs` describes. Grouped by the file of the
//! primitive that reads them.

pub(crate) use super::options_swarm::*;
use super::opts::options;

// attach.rs
options! {
    /// `start_attached`'s options.
    struct StartAttachedOpts {
        stdin: flag,
    }
}

options! {
    /// `attach`'s options.
    struct AttachOpts {
        stdin: flag,
        detach_keys: text,
    }
}

// batch.rs
options! {
    /// `container::logs`'s options: the log query, `until_first_exit`, and
    /// with `follow` the `project` (and `services`) watched as compose's
    /// `logs -f` watches them.
    struct StreamLogsOpts {
        follow: flag,
        tail: any,
        timestamps: flag,
        since: int,
        until: int,
        until_first_exit: flag,
        project: text,
        services: strings,
    }
}

options! {
    /// `container::batch`'s options.
    struct ContainerBatchOpts {
        timeout: int,
        signal: text,
        force: flag,
        volumes: flag,
        on_event: func,
        kill_on_force: flag,
        dry_run: flag,
    }
}

// compose.rs
options! {
    /// `LoadOpts`'s options.
    struct LoadOpts {
        files: strings,
        project_name: text,
        profiles: strings,
        env_files: strings,
        project_directory: text,
        env: string_map,
        no_interpolate: flag,
        no_consistency: flag,
        no_normalize: flag,
        no_path_resolution: flag,
        all_resources: flag,
        compatibility: flag,
    }
}

// container.rs
options! {
    /// `logs`'s options.
    struct LogsOpts {
        follow: flag,
        tail: any,
        timestamps: flag,
        since: int,
        until: int,
        stdout: flag,
        stderr: flag,
    }
}

options! {
    /// `remove`'s options.
    struct RemoveOpts {
        force: flag,
        volumes: flag,
    }
}

// container_cp.rs
options! {
    /// `cp_to` / `cp_from`'s options.
    struct CpOpts {
        archive: flag,
        follow_link: flag,
    }
}

// container_image.rs
options! {
    /// `commit`'s options.
    struct CommitOpts {
        reference: text,
        comment: text,
        author: text,
        changes: strings,
        pause: flag,
    }
}

// engine.rs
options! {
    /// `engine::events`'s options.
    struct EventsOpts {
        since: int,
        until: int,
        label: strings,
        kind: strings,
    }
}

options! {
    /// `exec`'s options.
    struct ExecOpts {
        env: string_map,
        user: text,
        working_dir: text,
        privileged: flag,
        tty: flag,
    }
}

// exec_attached.rs
options! {
    /// `Container.exec_attached`'s options.
    struct ExecAttachedOpts {
        env: string_map,
        user: text,
        working_dir: text,
        privileged: flag,
        tty: flag,
        stdin: flag,
        detach_keys: text,
    }
}

// follow.rs
options! {
    /// `container::follow`'s options.
    struct ContainerFollowOpts {
        watch: strings,
        attach: strings,
        since: float,
        timestamps: flag,
    }
}

// format.rs
options! {
    /// `format_template`'s options.
    struct FormatTemplateOpts {
        headers: map,
        keys: strings,
    }
}

// health.rs
options! {
    /// `container::wait_healthy`'s options: each a number of seconds or a
    /// duration string.
    struct WaitHealthyOpts {
        timeout: any,
        stable_for: any,
        interval: any,
    }
}

// image.rs
options! {
    /// `image::build`'s options.
    struct ImageBuildOpts {
        context: text,
        dockerfile: text,
        tag: strings,
        tags: strings,
        build_args: string_map,
        args: string_map,
        target: text,
        labels: string_map,
        no_cache: flag,
        pull: flag,
        add: map,
        network: text,
        extra_hosts: strings,
        platform: text,
        memory: int,
        on_output: func,
    }
}

options! {
    /// `image remove`'s options.
    struct ImageRemoveOpts {
        force: flag,
        noprune: flag,
        name: text,
    }
}

// logprint.rs
options! {
    /// `log_printer`'s options.
    struct LogPrinterOpts {
        colour: flag,
        prefix: flag,
    }
}

// network.rs
options! {
    /// `network::create`'s options.
    struct NetworkCreateOpts {
        name: text,
        driver: text,
        labels: string_map,
        internal: flag,
        attachable: flag,
        subnet: text,
        gateway: text,
        options: string_map,
        enable_ipv6: flag,
        scope: text,
    }
}

options! {
    /// `network connect`'s options.
    struct NetworkConnectOpts {
        aliases: strings,
        ipv4_address: text,
    }
}

// oneoff.rs
options! {
    /// `plan::oneoff`'s options: `run`'s command-line overrides.
    struct OneoffOpts {
        command: any,
        entrypoint: any,
        env: strings,
        labels: string_map,
        user: text,
        workdir: text,
        name: text,
        auto_remove: flag,
        service_ports: flag,
        use_aliases: flag,
        tty: flag,
        interactive: flag,
        working_dir: text,
        config_files: strings,
        publish: strings,
        volumes: strings,
        cap_add: strings,
        cap_drop: strings,
        env_files: strings,
    }
}

// plan.rs
options! {
    /// `plan::compute`'s options.
    struct PlanComputeOpts {
        services: strings,
        no_deps: flag,
        force_recreate: flag,
        no_recreate: flag,
        always_recreate_deps: flag,
        remove_orphans: flag,
        ignore_orphans: flag,
        ignore_dependencies: flag,
        scale: map,
        build: text,
        working_dir: text,
        config_files: strings,
        recreate_volumes: flag,
    }
}

options! {
    /// `Plan.apply`'s options.
    struct PlanApplyOpts {
        timeout: int,
        no_start: flag,
        parallel: int,
        wait_timeout: float,
        attach_hooks: flag,
        renew_anon_volumes: flag,
        dry_run: flag,
        on_event: func,
    }
}

options! {
    /// `plan::down`'s options.
    struct PlanDownOpts {
        volumes: flag,
        remove_orphans: flag,
        rmi: text,
        timeout: int,
        services: strings,
        document: any,
        on_event: func,
        dry_run: flag,
    }
}

options! {
    /// `progress::show`'s options.
    struct ProgressOpts {
        dry_run: flag,
        title: text,
    }
}

options! {
    /// `LifecycleOpts`'s options.
    struct LifecycleOpts {
        services: strings,
        timeout: int,
        wait_timeout: float,
        no_deps: flag,
        dry_run: flag,
        document: any,
        on_event: func,
    }
}

// spec.rs
options! {
    /// `container::create`'s options.
    struct CreateOpts {
        name: text,
        image: text,
        command: any,
        cmd: any,
        entrypoint: strings,
        env: string_map,
        labels: string_map,
        working_dir: text,
        user: text,
        hostname: text,
        domainname: text,
        tty: flag,
        stdin_open: flag,
        network: text,
        networks: any,
        aliases: strings,
        ports: strings,
        expose: strings,
        volumes: strings,
        restart: text,
        healthcheck: map,
        stop_signal: text,
        stop_timeout: int,
        init: flag,
        privileged: flag,
        cap_add: strings,
        cap_drop: strings,
        extra_hosts: strings,
        dns: strings,
        memory: any,
        cpus: float,
        read_only: flag,
        tmpfs: strings,
        platform: text,
        auto_remove: flag,
        raw: any,
    }
}

options! {
    /// `container::create`'s `healthcheck` options.
    struct HealthcheckOpts {
        test: any,
        interval: any,
        timeout: any,
        retries: int,
        start_period: any,
        disable: flag,
    }
}

options! {
    /// One entry of `container::create`'s `networks` map.
    struct NetworkOpts {
        aliases: strings,
    }
}

// volume.rs
options! {
    /// `volume::create`'s options.
    struct VolumeCreateOpts {
        name: text,
        driver: text,
        driver_opts: string_map,
        labels: string_map,
    }
}

// watch.rs
options! {
    /// `watch::start`'s options.
    struct WatchStartOpts {
        path: text,
        ignore: strings,
        dockerignore: flag,
    }
}

options! {
    /// `watch::start`'s options.
    struct WatchStart1Opts {
        quiet: float,
    }
}

// rollout/
options! {
    /// `compose::rollout`'s options (durations: seconds or "1m30s").
    struct RolloutOpts {
        image: text,
        revision: int,
        replicas: int,
        parallelism: int,
        delay: any,
        order: text,
        failure_action: text,
        monitor: any,
        max_failure_ratio: float,
        max_surge: int,
        max_unavailable: int,
        progress_deadline: any,
        min_healthy_time: any,
        drain: any,
        timeout: int,
        gate: func,
        on_event: func,
    }
}

// stats_scope.rs
options! {
    /// `service::stats`'s options: each node's engine, by node name.
    struct ServiceStatsOpts {
        node_hosts: string_map,
    }
}

// ticker.rs
options! {
    /// `every`'s options.
    struct EveryOpts {
        on_error: text,
        ticks: int,
        name: text,
    }
}
