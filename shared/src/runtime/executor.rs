//! How the futures of a worker are woken. js-sys runs every woken future from one job it queues
//! with the global `queueMicrotask` when the global has one, else with `then` on a resolved
//! promise. workerd's `queueMicrotask` is a C++ call that wraps each job in the current async
//! context; `make bench`'s profile put 6 % of api-multi's isolate time in it. A promise
//! reaction is V8's own, and V8 carries the async context through it by itself.

use worker::{js_sys, wasm_bindgen::JsValue, wasm_bindgen_futures::spawn_local};

/// Has js-sys queue its jobs as promise reactions. Called from the worker's `start` event,
/// before any request: js-sys looks for `queueMicrotask` once, when its queue is first used,
/// so the global's is hidden for that moment only, then put back for everyone else.
pub fn queue_jobs_as_promise_reactions() {
    let global: JsValue = js_sys::global().into();
    let key = JsValue::from_str("queueMicrotask");
    let Ok(original) = js_sys::Reflect::get(&global, &key) else {
        return;
    };
    if js_sys::Reflect::set(&global, &key, &JsValue::UNDEFINED) != Ok(true) {
        return;
    }
    spawn_local(async {});
    let _ = js_sys::Reflect::set(&global, &key, &original);
}
