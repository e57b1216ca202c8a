//! The pure model: sites, release manifests, cycle ids and what templates see.

pub mod conda;
pub mod context;
pub mod cycle_env;
pub mod cycle_id;
pub mod jql;
pub mod placeholder;
pub mod release;
pub mod reminder;
pub mod request;
pub mod schedule;
pub mod site;
pub mod ticket;
pub mod version;
pub mod yamlfile;
