//! The open-file limit, which bounds how many connections the server can
//! hold: raised at start from the soft limit to the hard limit, and turned
//! into a connection cap that leaves room for database connections, key
//! files and logs, so that a flood of idle connections gets refused
//! connections rather than starving everything else of file descriptors.

/// Descriptors kept free of client connections.
const RESERVED: u64 = 256;
/// The most connections one worker holds, whatever the limit.
const MAX_PER_WORKER: u64 = 25_000;

/// Raises the soft open-file limit to the hard one, and returns the soft
/// limit now in force.
pub fn raise_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// The most connections each of `workers` workers may hold under an
/// open-file limit of `limit`.
pub fn connections_per_worker(limit: u64, workers: usize) -> usize {
    let usable = limit.saturating_sub(RESERVED).max(64);
    let per_worker = usable / workers.max(1) as u64;
    per_worker.clamp(16, MAX_PER_WORKER) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_raised_to_the_hard_limit() {
        let soft = raise_limit();
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct passed.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
        assert_eq!((soft, limit.rlim_cur), (limit.rlim_max, limit.rlim_max));
    }

    #[test]
    fn connections_leave_room_for_everything_else() {
        assert_eq!(connections_per_worker(1024, 2), 384);
        assert_eq!(connections_per_worker(1 << 20, 1), 25_000);
        assert_eq!(connections_per_worker(100, 8), 16, "never none");
    }
}
