//! What every console page works with, apart from the front channel's
//! state: the operations, the issuer the console signs in through, the
//! proxies that say where a request came from, and whether cookies are
//! `Secure`.

use crate::client_address::TrustedProxies;
use crate::pages::PageError;
use actix_web::web;
use portcullis_app::{App, AppError};
use portcullis_core::Issuer;

/// The console's request context.
pub struct ConsoleContext {
    /// The operations the pages call.
    pub app: web::Data<App>,
    /// The issuer: where the console signs in.
    pub issuer: Issuer,
    /// Proxies whose X-Forwarded-For is believed, for the audit's source.
    pub proxies: TrustedProxies,
    /// Whether cookies are `Secure` (an https issuer).
    pub secure_cookies: bool,
}

impl ConsoleContext {
    /// Runs the operation `work` off the request threads; a failure is
    /// the pages' one error.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, PageError> {
        crate::pages::operation(&self.app, work).await
    }
}
