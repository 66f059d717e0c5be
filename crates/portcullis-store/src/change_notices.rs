//! Announcements of changes to the change log, on PostgreSQL: a trigger
//! (migration 000040) notifies [`CHANNEL`] as each change commits, and a
//! [`ChangeListener`] waits for those notifications on a connection of its
//! own.
//!
//! libpq is called directly (`pq-sys`, the bindings diesel links already):
//! diesel's connection hands over the notifications that have arrived but
//! cannot wait for one, and a listener that polled for them would wake the
//! thread for nothing hundreds of times a second. The URL is the pool's, with
//! the same timeouts and keepalives, so after a failover the listener
//! reconnects where the pool does (to the writable host, when the URL asks
//! for `target_session_attrs=read-write`).
//!
//! PostgreSQL serialises the commits of transactions that notify (a global
//! lock from pre-commit to the commit record's flush). Only changes to the
//! change log notify (revocations, client and key changes, lockouts), not
//! token issuance or refresh rotation, so that is a cost paid by rare writes.

use crate::connection::{on_one_line, ConnectionManager};
use crate::{DatabaseUrl, StoreError};
use pq_sys::{ConnStatusType, ExecStatusType, PGconn};
use std::ffi::{CStr, CString};
use std::ptr::NonNull;
use std::time::Duration;

/// The channel the change log's trigger notifies.
pub const CHANNEL: &str = "portcullis_change_log";

/// A PostgreSQL connection listening on [`CHANNEL`].
pub struct ChangeListener {
    conn: NonNull<PGconn>,
    /// The database's URL as shown (without its password), for errors.
    shown: String,
}

impl ChangeListener {
    /// Opens a connection to the PostgreSQL at `url` and listens, giving up
    /// on a server that does not answer within `timeout`; `None` on SQLite,
    /// where nothing is announced.
    pub fn open(url: &DatabaseUrl, timeout: Duration) -> Option<Result<Self, StoreError>> {
        let DatabaseUrl::Postgres(raw) = url else { return None };
        let libpq_url = ConnectionManager::new(url.clone(), timeout).libpq_url(raw);
        let shown = url.to_string();
        Some(Self::listen(&libpq_url, shown.clone()).map_err(|reason| lost(shown, reason)))
    }

    fn listen(url: &str, shown: String) -> Result<Self, String> {
        let url = CString::new(url).map_err(|_| "the URL holds a NUL byte".to_owned())?;
        // SAFETY: `url` is a NUL-terminated string that outlives the call.
        let conn = NonNull::new(unsafe { pq_sys::PQconnectdb(url.as_ptr()) })
            .ok_or_else(|| "libpq could not allocate a connection".to_owned())?;
        // Owned from here: dropped, it is closed.
        let listener = Self { conn, shown };
        // SAFETY: a live connection; the processor keeps no state. libpq
        // would print the server's messages (a "terminating connection"
        // while failing over) to stderr; the lost connection is reported
        // through `wait` instead.
        unsafe { pq_sys::PQsetNoticeProcessor(conn.as_ptr(), Some(ignore_notice), std::ptr::null_mut()) };
        // SAFETY: `conn` is a live connection until `listener` drops.
        if unsafe { pq_sys::PQstatus(conn.as_ptr()) } != ConnStatusType::CONNECTION_OK {
            return Err(listener.error());
        }
        let listen = CString::new(format!("LISTEN {CHANNEL}")).expect("no NUL in the channel");
        // SAFETY: a live connection and a NUL-terminated command; the result
        // is read, then freed once.
        let listening = unsafe {
            let result = pq_sys::PQexec(conn.as_ptr(), listen.as_ptr());
            let ok = !result.is_null() && pq_sys::PQresultStatus(result) == ExecStatusType::PGRES_COMMAND_OK;
            pq_sys::PQclear(result);
            ok
        };
        if listening {
            Ok(listener)
        } else {
            Err(listener.error())
        }
    }

    /// Waits up to `timeout` for a notification; true when at least one
    /// arrived (all that arrived are consumed). An error means the
    /// connection is lost: open another.
    pub fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        let conn = self.conn.as_ptr();
        // SAFETY: a live connection.
        let fd = unsafe { pq_sys::PQsocket(conn) };
        if fd < 0 {
            return Err(lost(self.shown.clone(), self.error()));
        }
        let mut ready = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        match unsafe { libc::poll(&mut ready, 1, millis) } {
            0 => return Ok(false),
            n if n < 0 => {
                let error = std::io::Error::last_os_error();
                // Interrupted by a signal: the caller waits again.
                if error.kind() == std::io::ErrorKind::Interrupted {
                    return Ok(false);
                }
                return Err(lost(self.shown.clone(), format!("cannot wait for notifications: {error}")));
            }
            _ => {}
        }
        // SAFETY: a live connection; a closed or broken one returns 0.
        if unsafe { pq_sys::PQconsumeInput(conn) } == 0 {
            return Err(lost(self.shown.clone(), self.error()));
        }
        let mut any = false;
        // SAFETY: each notification libpq returns is freed once with PQfreemem.
        unsafe {
            loop {
                let notice = pq_sys::PQnotifies(conn);
                if notice.is_null() {
                    break;
                }
                pq_sys::PQfreemem(notice.cast());
                any = true;
            }
        }
        Ok(any)
    }

    /// libpq's last error on this connection, on one line.
    fn error(&self) -> String {
        // SAFETY: the message belongs to the live connection and is copied
        // before anything else is done with it.
        let message = unsafe { CStr::from_ptr(pq_sys::PQerrorMessage(self.conn.as_ptr())) };
        on_one_line(&message.to_string_lossy())
    }
}

unsafe extern "C" fn ignore_notice(_: *mut std::ffi::c_void, _: *const std::ffi::c_char) {}

fn lost(url: String, reason: String) -> StoreError {
    StoreError::Connect { backend: "PostgreSQL", url, reason }
}

impl Drop for ChangeListener {
    fn drop(&mut self) {
        // SAFETY: the connection is closed once, and never used after.
        unsafe { pq_sys::PQfinish(self.conn.as_ptr()) }
    }
}
