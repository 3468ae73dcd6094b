//! A blocking client for a Trogdor coordinator's REST API (plain HTTP, JSON):
//! create, follow, stop and destroy tasks. Every request is bounded in time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::spec::CreateTask;
use super::state::{CoordinatorStatus, TaskState, TasksResponse};

/// The longest one request may take (connect, send, answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TrogdorError {
    #[error("'{0}' is not a Trogdor coordinator URL (want http://HOST:PORT, e.g. the last line of `scripts/kafka.sh trogdor-start`)")]
    BadUrl(String),
    #[error("{method} {url}: {source}")]
    Http {
        method: &'static str,
        url: String,
        #[source]
        source: Box<ureq::Error>,
    },
    /// The coordinator answered with an error (its JSON `{"code", "message"}`).
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
    },
    #[error("{method} {url}: unexpected answer: {reason}")]
    Answer {
        method: &'static str,
        url: String,
        reason: String,
    },
    #[error("task '{id}' was not done within {waited:?} (last state: {state})")]
    NotDone {
        id: String,
        waited: Duration,
        state: String,
    },
}

/// One coordinator, by its base URL.
#[derive(Clone, Debug)]
pub struct TrogdorClient {
    base: String,
    agent: ureq::Agent,
}

impl TrogdorClient {
    /// A client of the coordinator at `url` (`http://HOST:PORT`, a trailing `/` is
    /// fine). Nothing is sent yet: see [`TrogdorClient::status`].
    pub fn new(url: &str) -> Result<Self, TrogdorError> {
        let base = url.trim().trim_end_matches('/');
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| TrogdorError::BadUrl(url.to_string()))?;
        // Trogdor's REST server has no TLS and no path of its own: host:port only.
        if rest.is_empty() || rest.contains('/') || rest.contains(['?', '#', ' ']) {
            return Err(TrogdorError::BadUrl(url.to_string()));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(REQUEST_TIMEOUT))
            // Error answers carry the coordinator's reason in their body: read it.
            .http_status_as_error(false)
            // The control channel goes straight to the coordinator, whatever the
            // environment's HTTP proxy says (a proxy would also see loopback requests).
            .proxy(None)
            .build()
            .into();
        Ok(TrogdorClient {
            base: base.to_string(),
            agent,
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET /coordinator/status`: the coordinator is up.
    pub fn status(&self) -> Result<CoordinatorStatus, TrogdorError> {
        let url = format!("{}/coordinator/status", self.base);
        let r = self.agent.get(&url).call();
        read(r, "GET", url)
    }

    /// `POST /coordinator/task/create`. Creating the same id with the same spec again
    /// is no error (the API is idempotent); with another spec it is.
    pub fn create_task<S: Serialize>(&self, id: &str, spec: &S) -> Result<(), TrogdorError> {
        let url = format!("{}/coordinator/task/create", self.base);
        let r = self.agent.post(&url).send_json(CreateTask { id, spec });
        read::<serde_json::Value>(r, "POST", url).map(drop)
    }

    /// The tasks of these ids the coordinator knows (destroyed ones are gone).
    pub fn tasks(&self, ids: &[&str]) -> Result<BTreeMap<String, TaskState>, TrogdorError> {
        let url = format!("{}/coordinator/tasks", self.base);
        let mut req = self.agent.get(&url);
        for id in ids {
            req = req.query("taskId", *id);
        }
        let r = req.call();
        read::<TasksResponse>(r, "GET", url).map(|t| t.tasks)
    }

    /// One task, `None` if the coordinator does not know it.
    pub fn task(&self, id: &str) -> Result<Option<TaskState>, TrogdorError> {
        Ok(self.tasks(&[id])?.remove(id))
    }

    /// `PUT /coordinator/task/stop` with `{"id": ID}` (a query parameter is not read):
    /// the task's workers stop and it becomes DONE, cancelled. Unknown or finished
    /// tasks are no error.
    pub fn stop_task(&self, id: &str) -> Result<(), TrogdorError> {
        let url = format!("{}/coordinator/task/stop", self.base);
        let r = self
            .agent
            .put(&url)
            .send_json(serde_json::json!({ "id": id }));
        read::<serde_json::Value>(r, "PUT", url).map(drop)
    }

    /// `DELETE /coordinator/tasks?taskId=ID`: the coordinator (and its agents) forget
    /// the task, stopping it first if it runs. Unknown tasks are no error.
    pub fn destroy_task(&self, id: &str) -> Result<(), TrogdorError> {
        let url = format!("{}/coordinator/tasks", self.base);
        let r = self.agent.delete(&url).query("taskId", id).call();
        read::<serde_json::Value>(r, "DELETE", url).map(drop)
    }

    /// Polls task `id` until it is DONE (or unknown: `None`), at most `timeout`.
    pub fn wait_done(
        &self,
        id: &str,
        timeout: Duration,
    ) -> Result<Option<TaskState>, TrogdorError> {
        let start = Instant::now();
        loop {
            let task = self.task(id)?;
            match task {
                None => return Ok(None),
                Some(t) if t.is_done() => return Ok(Some(t)),
                Some(t) if start.elapsed() >= timeout => {
                    return Err(TrogdorError::NotDone {
                        id: id.to_string(),
                        waited: start.elapsed(),
                        state: format!("{:?}", t.state),
                    })
                }
                Some(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

/// The answer's JSON, or the coordinator's error.
fn read<T: DeserializeOwned>(
    r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    method: &'static str,
    url: String,
) -> Result<T, TrogdorError> {
    let mut resp = r.map_err(|e| TrogdorError::Http {
        method,
        url: url.clone(),
        source: Box::new(e),
    })?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| TrogdorError::Http {
            method,
            url: url.clone(),
            source: Box::new(e),
        })?;
    if !(200..300).contains(&status) {
        // Trogdor's RestExceptionMapper answers {"code": N, "message": "..."}.
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or(body);
        return Err(TrogdorError::Status {
            method,
            url,
            status,
            message,
        });
    }
    serde_json::from_str(&body).map_err(|e| TrogdorError::Answer {
        method,
        url,
        reason: format!("{e}: {}", body.chars().take(200).collect::<String>()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_host_port_urls_are_coordinators() {
        for ok in [
            "http://127.0.0.1:8889",
            "http://127.0.0.1:8889/",
            " http://localhost:1 ",
        ] {
            let c = TrogdorClient::new(ok).unwrap();
            assert!(
                !c.url().ends_with('/') && c.url().starts_with("http://"),
                "{ok}"
            );
        }
        for bad in [
            "",
            "127.0.0.1:8889",
            "https://127.0.0.1:8889",
            "http://",
            "http://127.0.0.1:8889/coordinator",
            "http://a b:1",
        ] {
            assert!(
                matches!(TrogdorClient::new(bad), Err(TrogdorError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_coordinator_that_is_not_there_is_an_http_error() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = TrogdorClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let e = c.status().unwrap_err();
        assert!(matches!(e, TrogdorError::Http { method: "GET", .. }), "{e}");
    }
}
