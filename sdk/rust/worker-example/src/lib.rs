//! The gated-report example (`../examples/gated_server.rs`) as a Cloudflare Worker:
//! `GET /report?user=…` counts one request with dream-api and sends a user over their tier's
//! limit to Stripe Checkout for `pro`. The SDK runs on the Worker's own `fetch` (reqwest's
//! wasm32 support) and sleeps between retries with `setTimeout`.

use dream_api::{DreamApi, Error};
use worker::{Context, Env, Request, Response, Result, Url, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    console_error_panic_hook::set_once();
    let url = req.url()?;
    match url.path() {
        "/health" => Response::ok("ok"),
        "/report" => match url.query_pairs().find(|(name, _)| name == "user") {
            Some((_, user)) => report(&client(&env)?, &user).await,
            None => Response::error("add ?user=<your user's id>", 400),
        },
        _ => Response::error("not found", 404),
    }
}

fn client(env: &Env) -> Result<DreamApi> {
    Ok(DreamApi::new(
        env.secret("DREAM_API_SECRET_KEY")?.to_string(),
        env.var("DREAM_API_BASE_URL")?.to_string(),
    ))
}

async fn report(api: &DreamApi, user: &str) -> Result<Response> {
    match api.track_usage(user, None).await {
        Ok(tracked) => Response::ok(format!(
            "Report for {user}: request {} of this period\n",
            tracked.usage.count
        )),
        Err(Error::LimitReached { .. }) => match api.create_checkout(user, "pro", &Default::default()).await {
            Ok(checkout) => Response::redirect_with_status(Url::parse(&checkout.url)?, 303),
            Err(e) => Response::error(e.to_string(), 502),
        },
        Err(e) => Response::error(e.to_string(), 502),
    }
}
