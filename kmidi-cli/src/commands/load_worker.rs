//! `kmidi load-worker` (hidden): one load step of the `local` load driver's
//! `transport` client, made through one of kmidi's transports in a process of its own
//! so the music's producer and consumer keep their threads (see
//! `kmidi_lab::local::worker`). Its job (transport, client config, topic, rate, record
//! size, duration) is the first line of stdin; it reports JSON lines on stdout and
//! quits when stdin closes.

use std::io::BufReader;

use anyhow::Result;
use kmidi_lab::local::worker;

pub fn run() -> Result<i32> {
    let stdin = BufReader::new(std::io::stdin());
    let mut out = std::io::stdout().lock();
    Ok(worker::serve(stdin, &mut out, |job| {
        kmidi_registry::resolve(&job.transport, &job.plugin_dirs).map_err(|e| e.to_string())
    }))
}
