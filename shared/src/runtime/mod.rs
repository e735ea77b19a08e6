//! The Workers runtime as the rest of the crate sees it.

pub mod clock;
pub mod deadline;
pub mod executor;
pub mod log;
pub mod objects;
pub mod outbound;
pub mod settings;
pub mod timing;

use dream_core::{ApiError, ApiResult};

/// A failed binding call (D1, KV, R2, a Durable Object, fetch) is an internal error: its cause
/// is logged with the request id, never shown. (`ApiError` lives in the Workers-free core, so
/// the conversion is a method here rather than a `From` there.)
pub trait OrInternal<T> {
    fn or_internal(self) -> ApiResult<T>;
}

impl<T> OrInternal<T> for Result<T, worker::Error> {
    fn or_internal(self) -> ApiResult<T> {
        self.map_err(ApiError::internal)
    }
}
