//! A fake of anaconda.org's package API on [`FakeServer`], answering as its
//! public documentation says: `GET /package/{channel}/{name}` → 200 with the
//! package's `versions` and `files` (each with `version`, `basename`,
//! `attrs.subdir`, `attrs.build`), 404 `{"error": "..."}` for a package the
//! channel does not have. [`CondaFake::fail_next`] answers 503 first, as
//! the service does when overloaded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http_fake::{FakeServer, Reply, Request};

/// `(channel, name)` → files `(version, subdir, build)`.
type Packages = BTreeMap<(String, String), Vec<(String, String, String)>>;

/// A running fake channel API; stops when dropped.
pub struct CondaFake {
    server: FakeServer,
    packages: Arc<Mutex<Packages>>,
    failures: Arc<Mutex<usize>>,
}

super::http_fake::serves_as_fake!(CondaFake);

impl CondaFake {
    /// An API with no package.
    pub fn start() -> Self {
        let packages: Arc<Mutex<Packages>> = Arc::default();
        let failures: Arc<Mutex<usize>> = Arc::default();
        let (shared, failing) = (packages.clone(), failures.clone());
        let server = FakeServer::start(move |req| {
            let mut left = failing.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Reply::json(503, json!({"error": "Service Unavailable"}));
            }
            handle(&shared.lock().unwrap(), req)
        });
        Self {
            server,
            packages,
            failures,
        }
    }

    /// The next `times` requests are answered 503.
    pub fn fail_next(&self, times: usize) {
        *self.failures.lock().unwrap() = times;
    }

    /// Adds a file of `name` `version` (`subdir`, `build`) to `channel`.
    pub fn add(&self, channel: &str, name: &str, version: &str, subdir: &str, build: &str) {
        self.packages
            .lock()
            .unwrap()
            .entry((channel.to_string(), name.to_string()))
            .or_default()
            .push((version.into(), subdir.into(), build.into()));
    }
}

fn handle(packages: &Packages, req: &Request) -> Reply {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let ["package", channel, name] = parts.as_slice() else {
        return Reply::json(404, json!({"error": "Not Found"}));
    };
    let Some(files) = packages.get(&(channel.to_string(), name.to_string())) else {
        return Reply::json(
            404,
            json!({"error": format!("\"{channel}/{name}\" could not be found")}),
        );
    };
    let mut versions: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    versions.dedup();
    let files: Vec<Value> = files
        .iter()
        .map(|(version, subdir, build)| {
            json!({
                "version": version,
                "basename": format!("{subdir}/{name}-{version}-{build}.conda"),
                "attrs": {"subdir": subdir, "build": build},
            })
        })
        .collect();
    Reply::json(
        200,
        json!({"name": name, "owner": channel, "versions": versions, "files": files}),
    )
}
