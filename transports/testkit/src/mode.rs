//! `testkit.mode`: how a testkit client misbehaves on request (the table in the crate
//! docs), read from the client config and applied before each call's real work.

use std::time::Duration;

use kmidi_transport::{ClientConfig, TransportError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Ok,
    Fail,
    PanicNew,
    Panic,
    Transient,
    PollError,
    Undelivered,
    Block(Duration),
}

impl Mode {
    pub(crate) fn of(config: &ClientConfig) -> Result<Self, TransportError> {
        let block_ms = config
            .get("testkit.block_ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(3000);
        Ok(match config.get("testkit.mode").unwrap_or("ok") {
            "ok" => Mode::Ok,
            "fail" => Mode::Fail,
            "panic-new" => Mode::PanicNew,
            "panic" => Mode::Panic,
            "transient" => Mode::Transient,
            "poll-error" => Mode::PollError,
            "undelivered" => Mode::Undelivered,
            "block" => Mode::Block(Duration::from_millis(block_ms)),
            other => {
                return Err(TransportError::Config {
                    key: "testkit.mode".into(),
                    reason: format!(
                        "unknown mode {other:?}; use \
                         ok|fail|panic-new|panic|transient|poll-error|undelivered|block"
                    ),
                })
            }
        })
    }

    /// What constructors and admin calls do before their real work.
    pub(crate) fn on_new(self, what: &str) -> Result<(), TransportError> {
        match self {
            Mode::Fail => Err(TransportError::Client(format!(
                "testkit: {what} failed on request (testkit.mode=fail)"
            ))),
            Mode::PanicNew => {
                panic!("testkit: {what} panicked on request (testkit.mode=panic-new)")
            }
            Mode::Block(d) => {
                std::thread::sleep(d);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// What calls on handles do before their real work.
    pub(crate) fn on_call(self, what: &str) {
        match self {
            Mode::Panic => panic!("testkit: {what} panicked on request (testkit.mode=panic)"),
            Mode::Block(d) => std::thread::sleep(d),
            _ => {}
        }
    }
}
