//! Time for the core on wasm32, where `std::time::Instant` does not exist: `performance.now()`
//! where the runtime has it, else `Date.now()`.

use std::time::Duration;

use js_sys::{Function, Reflect};
use wasm_bindgen::JsCast;

use crate::core::clock::Clock;

fn now_ms() -> f64 {
    let global = js_sys::global();
    if let Ok(perf) = Reflect::get(&global, &"performance".into()) {
        if let Ok(now) = Reflect::get(&perf, &"now".into()) {
            if let Some(now) = now.dyn_ref::<Function>() {
                if let Some(ms) = now.call0(&perf).ok().and_then(|v| v.as_f64()) {
                    return ms;
                }
            }
        }
    }
    js_sys::Date::now()
}

/// Milliseconds since this clock was made.
#[derive(Debug)]
pub(crate) struct JsClock {
    origin: f64,
}

impl JsClock {
    pub(crate) fn shared() -> crate::core::clock::SharedClock {
        std::sync::Arc::new(JsClock { origin: now_ms() })
    }
}

impl Clock for JsClock {
    fn now(&self) -> Duration {
        Duration::from_secs_f64((now_ms() - self.origin).max(0.0) / 1000.0)
    }
}
