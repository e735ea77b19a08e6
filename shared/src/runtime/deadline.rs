//! Waiting for a binding or an upstream at most so long: the work and a timer race, and the
//! loser is dropped. Generic over the timer so the rule is tested natively; the workers pass
//! `worker::Delay`.

use std::{future::Future, pin::pin};

use futures_util::future::{Either, select};

/// `Some(output)` when `work` finishes first, `None` when `deadline` does.
pub async fn within<T>(work: impl Future<Output = T>, deadline: impl Future<Output = ()>) -> Option<T> {
    match select(pin!(work), pin!(deadline)).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{
        FutureExt,
        future::{pending, ready},
    };

    use super::within;

    #[test]
    fn finished_work_wins() {
        assert_eq!(within(ready(7), pending()).now_or_never(), Some(Some(7)));
    }

    #[test]
    fn work_that_never_finishes_gives_none_at_the_deadline() {
        assert_eq!(within(pending::<u8>(), ready(())).now_or_never(), Some(None));
    }

    #[test]
    fn work_already_done_wins_even_against_an_expired_deadline() {
        // `select` polls the work first: a cached answer is never thrown away for being late.
        assert_eq!(within(ready("hit"), ready(())).now_or_never(), Some(Some("hit")));
    }
}
