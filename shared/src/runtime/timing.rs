//! `Server-Timing`: every response says which binding calls (KV, D1, a Durable Object, a rate
//! limit, an outbound fetch) it waited on and for how long, in order — the W3C header browsers'
//! developer tools show, and what `make bench` counts as round trips per request.
//!
//! An isolate interleaves its requests at their awaits, so the calls are attributed by the
//! request future being polled: `Timed` makes its request's record current while it polls, and
//! `timed` reads it when a call starts (as `tracing`'s `Instrument` does with spans).

use std::{
    cell::RefCell,
    fmt::Write,
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

/// At most this many entries go into the header (a request making more calls is slow for
/// other reasons, and the header stays small).
const MAX_ENTRIES: usize = 32;

/// One request's binding calls: what, and how many milliseconds each took.
#[derive(Default)]
pub struct Timings(Mutex<Vec<(&'static str, u64)>>);

impl Timings {
    fn push(&self, name: &'static str, millis: u64) {
        if let Ok(mut entries) = self.0.lock()
            && entries.len() < MAX_ENTRIES
        {
            entries.push((name, millis));
        }
    }

    /// The header's value (`kv;dur=1, counter;dur=3`), `None` when nothing was awaited.
    pub fn header_value(&self) -> Option<String> {
        let entries = self.0.lock().ok()?;
        let mut value = String::new();
        for (name, millis) in entries.iter() {
            if !value.is_empty() {
                value.push_str(", ");
            }
            let _ = write!(value, "{name};dur={millis}");
        }
        (!value.is_empty()).then_some(value)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Timings>>> = const { RefCell::new(None) };
}

/// A request's future, with its record current while it runs.
pub struct Timed<F> {
    inner: Pin<Box<F>>,
    timings: Arc<Timings>,
}

impl<F: Future> Timed<F> {
    pub fn new(inner: F, timings: Arc<Timings>) -> Self {
        Self {
            inner: Box::pin(inner),
            timings,
        }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let previous = CURRENT.with(|c| c.replace(Some(self.timings.clone())));
        let polled = self.inner.as_mut().poll(cx);
        CURRENT.with(|c| *c.borrow_mut() = previous);
        polled
    }
}

/// Awaits one binding call, recorded under `name` in the current request's timings.
pub async fn timed<T>(name: &'static str, call: impl Future<Output = T>) -> T {
    let timings = CURRENT.with(|c| c.borrow().clone());
    let started = super::clock::now_millis();
    let output = call.await;
    if let Some(timings) = timings {
        timings.push(name, super::clock::now_millis().saturating_sub(started));
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        futures_util::FutureExt::now_or_never(future).expect("ready")
    }

    #[test]
    fn calls_are_recorded_in_the_request_that_made_them() {
        let (a, b) = (Arc::new(Timings::default()), Arc::new(Timings::default()));
        block_on(Timed::new(
            async {
                timed("kv", async {}).await;
                timed("counter", async {}).await;
            },
            a.clone(),
        ));
        block_on(Timed::new(timed("d1", async {}), b.clone()));
        // Outside any request nothing is recorded (and nothing fails).
        block_on(timed("kv", async {}));
        let names = |t: &Timings| -> Vec<&'static str> { t.0.lock().unwrap().iter().map(|(n, _)| *n).collect() };
        assert_eq!(names(&a), ["kv", "counter"]);
        assert_eq!(names(&b), ["d1"]);
        assert!(a.header_value().unwrap().starts_with("kv;dur="));
        assert_eq!(Timings::default().header_value(), None);
    }

    #[test]
    fn the_header_stays_small() {
        let timings = Timings::default();
        for _ in 0..100 {
            timings.push("d1", 1);
        }
        assert_eq!(timings.header_value().unwrap().matches("d1").count(), MAX_ENTRIES);
    }
}
