//! `--realtime`: run the calling thread under SCHED_FIFO, where the OS permits it
//! (root or CAP_SYS_NICE, and an RT budget in a container's cgroup).

use anyhow::{bail, Result};

/// Low RT priority: above every normal thread, below the kernel's own RT threads.
const PRIORITY: i32 = 10;

/// Switches the calling thread to SCHED_FIFO, or says why not.
pub fn fifo_this_thread() -> Result<()> {
    let param = libc::sched_param {
        sched_priority: PRIORITY,
    };
    // SAFETY: `param` is a valid, initialised sched_param that outlives the call, and
    // pid 0 means the calling thread, so no other thread's state is touched.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        bail!("sched_setscheduler(SCHED_FIFO, {PRIORITY}) refused: {err}");
    }
    Ok(())
}

/// Puts the calling thread back under the normal time-sharing policy.
pub fn normal_this_thread() -> Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: as above: a valid sched_param for the calling thread only.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_OTHER, &param) };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        bail!("sched_setscheduler(SCHED_OTHER) refused: {err}");
    }
    Ok(())
}
