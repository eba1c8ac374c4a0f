//! The Swarm primitives' options (`swarm::`, `node::`, `service::`,
//! `task::`, `secret::`/`config::`, `stack::`), declared as `options.rs`
//! declares the others and re-exported from it.

use super::opts::options;

// service.rs
options! {
    /// `service::create`'s and `service::update`'s options.
    struct ServiceSendOpts {
        registry_auth: flag,
    }
}

// node.rs
options! {
    /// `node::update`'s options.
    struct NodeUpdateOpts {
        availability: text,
        role: text,
        labels: string_map,
        label_add: string_map,
        label_rm: strings,
    }
}

options! {
    /// `node::list`'s filters, each a string or a list of strings.
    #[derive(serde::Serialize)]
    struct NodeFilters {
        id: filter,
        label: filter,
        role: filter,
        membership: filter,
        name: filter,
        node_label: filter,
    }
}

options! {
    /// `node::remove`'s options.
    struct ForceOpts {
        force: flag,
    }
}

// secret.rs
options! {
    /// `SecretCreateOpts`'s options.
    struct SecretCreateOpts {
        name: text,
        data: text,
        labels: string_map,
        driver: text,
        template_driver: text,
    }
}

options! {
    /// `secret::list` and `config::list`'s filters, each a string or a list of strings.
    #[derive(serde::Serialize)]
    struct ObjectFilters {
        name: filter,
        label: filter,
        id: filter,
    }
}

// service.rs
options! {
    /// `service::logs`'s options.
    struct ServiceLogsOpts {
        follow: flag,
        tail: any,
        since: int,
        timestamps: flag,
        task: text,
    }
}

options! {
    /// `service::list`'s filters, each a string or a list of strings.
    #[derive(serde::Serialize)]
    struct ServiceFilters {
        id: filter,
        label: filter,
        mode: filter,
        name: filter,
    }
}

// stack.rs
options! {
    /// `stack::plan`'s options.
    struct StackPlanOpts {
        prune: flag,
    }
}

// swarm.rs
options! {
    /// `swarm::init`'s options.
    struct SwarmInitOpts {
        advertise_addr: text,
        listen_addr: text,
        data_path_addr: text,
        data_path_port: int,
        default_addr_pool: strings,
        subnet_size: int,
        availability: text,
        force_new_cluster: flag,
        autolock: flag,
        spec: map,
    }
}

options! {
    /// `swarm::join`'s options.
    struct SwarmJoinOpts {
        token: text,
        remote_addrs: strings,
        remote_addr: text,
        advertise_addr: text,
        listen_addr: text,
        data_path_addr: text,
        availability: text,
    }
}

options! {
    /// `swarm::leave`'s options.
    struct SwarmLeaveOpts {
        force: flag,
    }
}

options! {
    /// `swarm::update`'s options.
    struct SwarmUpdateOpts {
        rotate_worker_token: flag,
        rotate_manager_token: flag,
        rotate_manager_unlock_key: flag,
    }
}

// task.rs
options! {
    /// `task::list`'s filters, each a string or a list of strings.
    #[derive(serde::Serialize)]
    struct TaskFilters {
        service: filter,
        node: filter,
        desired_state: filter,
        id: filter,
        label: filter,
        name: filter,
        up_to_date: filter,
    }
}
