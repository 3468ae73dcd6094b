//! [`JitterProxy`]: a TCP proxy that holds every chunk back a random delay, in order,
//! as a real network's jitter does (without reordering).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A TCP proxy on 127.0.0.1 that forwards every connection to `upstream`, bytes in
/// order, each chunk held back a random 0..`max` (delivered at max(previous delivery,
/// arrival + random)): the jitter of a real network, without reordering. Dropping it
/// closes every connection.
pub struct JitterProxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl JitterProxy {
    /// Starts forwarding to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16, max: Duration) -> JitterProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the proxy binds");
        let port = listener.local_addr().expect("the proxy's address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let live: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (stop2, live2) = (Arc::clone(&stop), Arc::clone(&live));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                    live2
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .extend([c, s]);
                }
                pump(&client, &server, max);
                pump(&server, &client, max);
            }
        });
        JitterProxy { port, stop, live }
    }

    /// Cuts every connection open now, as a network failure would (new ones still pass).
    pub fn cut(&self) {
        for s in self
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for JitterProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.cut();
    }
}

/// Copies `from` to `to` on two threads: one reads and stamps each chunk with its
/// delivery time, the other writes it then.
fn pump(from: &TcpStream, to: &TcpStream, max: Duration) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut rng = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        let mut last = Instant::now();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            // xorshift64: any spread will do, it need not be a good generator.
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let delay = max.mul_f64((rng >> 11) as f64 / (1u64 << 53) as f64);
            last = last.max(Instant::now() + delay);
            if tx.send((last, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        for (at, bytes) in rx {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_forwards_bytes_in_order() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let up = upstream.local_addr().unwrap().port();
        let echo = std::thread::spawn(move || {
            let (mut s, _) = upstream.accept().unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        });
        let proxy = JitterProxy::start(up, Duration::from_millis(20));
        let mut c = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        let sent: Vec<u8> = (0..200u8).collect();
        for chunk in sent.chunks(7) {
            c.write_all(chunk).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(echo.join().unwrap(), sent);
    }
}
