//! Calls to a Durable Object (the usage counters, the webhook senders) through the runtime's own
//! `Request`/`Response`: workers-rs' read every answer's body as a stream, chunk by chunk, and
//! copy its `cf` object, which on the metered path is paid on every count.

use worker::{
    ObjectNamespace,
    wasm_bindgen::{JsCast, JsValue},
    wasm_bindgen_futures::JsFuture,
    web_sys, worker_sys,
};

/// POSTs `body` to `url` on the object named `name`, timed as `timing` (`runtime::timing`): the
/// status and text of its answer. An error means the call or its answer was lost.
pub async fn post(
    namespace: &ObjectNamespace,
    (name, url): (&str, &str),
    body: &str,
    timing: &'static str,
) -> worker::Result<(u16, String)> {
    let object: worker_sys::DurableObject = namespace.get_by_name(name)?.into_rpc();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let request = web_sys::Request::new_with_str_and_init(url, &init)?;
    let call = async {
        let response: web_sys::Response = JsFuture::from(object.fetch_with_request(&request)?)
            .await?
            .unchecked_into();
        let text = JsFuture::from(response.text()?).await?;
        Ok::<_, JsValue>((response.status(), text.as_string().unwrap_or_default()))
    };
    Ok(super::timing::timed(timing, call).await?)
}
