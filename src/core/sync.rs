//! Executor-agnostic async primitives for the engine, in safe Rust: an async mutex, a
//! semaphore, a memory meter, and (natively) `block_on` for the `std::io` adapters.
//!
//! They work the same under a JS event loop (wasm-bindgen-futures) and a thread: nothing here
//! blocks, and no lock is held across an `.await`.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct MutexSlot<T> {
    value: Option<T>,
    waiters: VecDeque<Waker>,
}

/// An async mutex: the value is moved into the guard while locked, so no `unsafe` is needed.
pub struct AsyncMutex<T> {
    slot: Mutex<MutexSlot<T>>,
}

impl<T> AsyncMutex<T> {
    /// A mutex holding `value`.
    pub fn new(value: T) -> Self {
        AsyncMutex { slot: Mutex::new(MutexSlot { value: Some(value), waiters: VecDeque::new() }) }
    }

    /// Waits for the lock.
    pub async fn lock(&self) -> AsyncMutexGuard<'_, T> {
        poll_fn(|cx| {
            let mut slot = lock(&self.slot);
            match slot.value.take() {
                Some(value) => Poll::Ready(AsyncMutexGuard { mutex: self, value: Some(value) }),
                None => {
                    slot.waiters.push_back(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<AsyncMutexGuard<'_, T>> {
        let value = lock(&self.slot).value.take()?;
        Some(AsyncMutexGuard { mutex: self, value: Some(value) })
    }
}

/// Holds the value of an [`AsyncMutex`]; puts it back when dropped.
pub struct AsyncMutexGuard<'a, T> {
    mutex: &'a AsyncMutex<T>,
    value: Option<T>,
}

impl<T> Deref for AsyncMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("guard holds the value until dropped")
    }
}

impl<T> DerefMut for AsyncMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("guard holds the value until dropped")
    }
}

impl<T> Drop for AsyncMutexGuard<'_, T> {
    fn drop(&mut self) {
        let mut slot = lock(&self.mutex.slot);
        slot.value = self.value.take();
        if let Some(waker) = slot.waiters.pop_front() {
            waker.wake();
        }
    }
}

struct SemaphoreState {
    available: usize,
    waiters: VecDeque<Waker>,
}

/// A counting semaphore: at most `permits` holders at once, the rest wait.
pub struct Semaphore {
    state: Mutex<SemaphoreState>,
}

impl Semaphore {
    /// A semaphore with `permits` permits (at least one).
    pub fn new(permits: usize) -> Self {
        Semaphore { state: Mutex::new(SemaphoreState { available: permits.max(1), waiters: VecDeque::new() }) }
    }

    /// Waits for a permit.
    pub async fn acquire(&self) -> Permit<'_> {
        poll_fn(|cx| {
            let mut s = lock(&self.state);
            if s.available > 0 {
                s.available -= 1;
                Poll::Ready(Permit { semaphore: self })
            } else {
                s.waiters.push_back(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// A held permit; released when dropped.
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = lock(&self.semaphore.state);
        s.available += 1;
        if let Some(waker) = s.waiters.pop_front() {
            waker.wake();
        }
    }
}

/// Bytes held by one stream now and at most.
#[derive(Debug, Default)]
pub struct Meter {
    held: AtomicU64,
    peak: AtomicU64,
}

impl Meter {
    /// Counts `bytes` more.
    pub fn add(&self, bytes: u64) {
        let now = self.held.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// Counts `bytes` fewer.
    pub fn sub(&self, bytes: u64) {
        self.held.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Bytes held now.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// Most bytes held at once.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

/// One tracked quantity (e.g. a Vec's capacity) reported to a [`Meter`] as it changes.
#[derive(Debug, Default)]
pub struct Gauge {
    value: u64,
}

impl Gauge {
    /// Reports the new value.
    pub fn set(&mut self, meter: &Meter, value: u64) {
        if value > self.value {
            meter.add(value - self.value);
        } else {
            meter.sub(self.value - value);
        }
        self.value = value;
    }
}

/// Runs a future to completion on this thread (for the `std::io` adapters over synchronous
/// sources, whose futures are ready at once; it parks if one is not).
#[cfg(not(target_arch = "wasm32"))]
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Wake};

    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::park();
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn async_mutex_serializes_and_hands_the_value_on() {
        let m = Arc::new(AsyncMutex::new(0u32));
        let guard = m.try_lock().unwrap();
        assert!(m.try_lock().is_none());
        let m2 = Arc::clone(&m);
        let t = std::thread::spawn(move || block_on(async { *m2.lock().await += 1 }));
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(guard);
        t.join().unwrap();
        assert_eq!(*block_on(m.lock()), 1);
    }

    #[test]
    fn semaphore_limits_holders() {
        let s = Arc::new(Semaphore::new(2));
        let a = block_on(s.acquire());
        let _b = block_on(s.acquire());
        let s2 = Arc::clone(&s);
        let t = std::thread::spawn(move || {
            let _c = block_on(s2.acquire());
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!t.is_finished(), "third acquire waits");
        drop(a);
        t.join().unwrap();
    }

    #[test]
    fn meter_tracks_peak_through_gauges() {
        let meter = Meter::default();
        let mut g = Gauge::default();
        g.set(&meter, 100);
        meter.add(50);
        g.set(&meter, 10);
        assert_eq!((meter.held(), meter.peak()), (60, 150));
    }
}
