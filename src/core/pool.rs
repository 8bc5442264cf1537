//! `BufferPool<T>`: reusable buffers in size classes, with a byte limit enforced by LRU
//! eviction, optional idle-time eviction, and access statistics (the spec's `BufferPool[T]`).
//!
//! Buffers are lent out as [`PooledBuffer`]s: owning handles that go back to the pool on
//! [`BufferPool::put`] or when dropped, so a forgotten buffer can never skew the accounting.
//! Time comes from an injected [`Clock`](super::clock::Clock), so eviction tests need no sleep.

use std::collections::{BTreeSet, HashMap};
use std::mem::size_of;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::clock::SharedClock;
use super::config::{BufferConfig, EvictionPolicy};
use super::error::{ErrorCode, Result, StreamError};

/// Smallest size class, in elements.
const MIN_CLASS: usize = 256;

/// The size class (in elements) that serves a request of `len` elements: powers of two split
/// into four steps each (at most 25% slack), never above `max_len`.
pub fn size_class(len: usize, max_len: usize) -> usize {
    let class = if len <= MIN_CLASS {
        MIN_CLASS
    } else {
        let high = len.next_power_of_two();
        let low = high / 2;
        let step = low / 4;
        low + (len - low).div_ceil(step) * step
    };
    class.min(max_len).max(len)
}

/// Statistics of one size class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassStats {
    /// The class size in bytes.
    pub size: usize,
    /// Free buffers of this class held by the pool.
    pub free: usize,
    /// Buffers of this class lent out.
    pub active: usize,
    /// Requests served by reuse.
    pub hits: u64,
    /// Requests that allocated.
    pub misses: u64,
    /// Buffers of this class released by eviction.
    pub evictions: u64,
}

/// A snapshot of a pool's counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolStats {
    /// Requests served by reuse.
    pub hits: u64,
    /// Requests that allocated.
    pub misses: u64,
    /// Buffers released to stay within limits or after idling.
    pub evictions: u64,
    /// Bytes held now (free and lent out).
    pub total_size: usize,
    /// Buffers held now (free and lent out).
    pub buffer_count: usize,
    /// Buffers lent out now.
    pub active_buffers: usize,
    /// Free buffers held now.
    pub free_buffers: usize,
    /// Bytes lent out / bytes held (0 when the pool holds nothing).
    pub utilization: f64,
    /// Per size class, smallest first.
    pub classes: Vec<ClassStats>,
}

struct FreeEntry<T> {
    data: Vec<T>,
    class: usize,
    access_count: u64,
    last_used: Duration,
}

struct PoolState<T> {
    config: BufferConfig,
    closed: bool,
    next_id: u64,
    next_tick: u64,
    free: HashMap<u64, FreeEntry<T>>,
    /// Free buffers, least recently used first: (tick, id).
    lru: BTreeSet<(u64, u64)>,
    /// Free buffers per class, most recently used last.
    by_class: HashMap<usize, BTreeSet<(u64, u64)>>,
    /// Lent-out buffers: id -> class.
    lent: HashMap<u64, usize>,
    total_bytes: usize,
    lent_bytes: usize,
    hits: u64,
    misses: u64,
    evictions: u64,
    classes: HashMap<usize, ClassStats>,
}

struct PoolInner<T> {
    state: Mutex<PoolState<T>>,
    clock: SharedClock,
}

/// A pool of reusable `Vec<T>` buffers. Cheap to clone (clones share the pool).
pub struct BufferPool<T: Copy + Default + Send + 'static = u8> {
    inner: Arc<PoolInner<T>>,
}

impl<T: Copy + Default + Send + 'static> Clone for BufferPool<T> {
    fn clone(&self) -> Self {
        BufferPool { inner: Arc::clone(&self.inner) }
    }
}

impl<T: Copy + Default + Send + 'static> std::fmt::Debug for BufferPool<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BufferPool").field("stats", &self.stats()).finish()
    }
}

/// A buffer lent out by a [`BufferPool`]. Derefs to its whole usable length (at least the size
/// asked for). Goes back to its pool when dropped.
pub struct PooledBuffer<T: Copy + Default + Send + 'static = u8> {
    data: Vec<T>,
    id: u64,
    class: usize,
    access_count: u64,
    last_used: Duration,
    pool: Weak<PoolInner<T>>,
}

impl<T: Copy + Default + Send + 'static> PooledBuffer<T> {
    /// Usable length in elements (the size class).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Never true: pools do not lend empty buffers.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// How many times this buffer has been handed out (1 on first use).
    pub fn access_count(&self) -> u64 {
        self.access_count
    }

    /// Clock time of the last hand-out or return.
    pub fn last_used(&self) -> Duration {
        self.last_used
    }

    /// A stable identifier, unique within the pool.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl<T: Copy + Default + Send + 'static> Deref for PooledBuffer<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data
    }
}

impl<T: Copy + Default + Send + 'static> DerefMut for PooledBuffer<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
}

impl<T: Copy + Default + Send + 'static> std::fmt::Debug for PooledBuffer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledBuffer").field("id", &self.id).field("len", &self.data.len()).finish()
    }
}

impl<T: Copy + Default + Send + 'static> Drop for PooledBuffer<T> {
    fn drop(&mut self) {
        // A buffer may have held plaintext: it is cleared before it is reused or freed.
        clear(&mut self.data);
        if let Some(inner) = self.pool.upgrade() {
            let data = std::mem::take(&mut self.data);
            inner.release(self.id, self.class, self.access_count, data);
        }
    }
}

/// Overwrites `data` with zeroes (the default), in a way the compiler keeps even when the
/// memory is freed next.
fn clear<T: Copy + Default>(data: &mut [T]) {
    data.fill(T::default());
    std::hint::black_box(&*data);
}

impl<T: Copy + Default + Send + 'static> BufferPool<T> {
    /// A pool with the given configuration and the system clock.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(config: BufferConfig) -> Result<Self> {
        Self::with_clock(config, super::clock::system_clock())
    }

    /// A pool with the given configuration and clock.
    pub fn with_clock(config: BufferConfig, clock: SharedClock) -> Result<Self> {
        config.validate()?;
        let state = PoolState {
            config,
            closed: false,
            next_id: 1,
            next_tick: 1,
            free: HashMap::new(),
            lru: BTreeSet::new(),
            by_class: HashMap::new(),
            lent: HashMap::new(),
            total_bytes: 0,
            lent_bytes: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
            classes: HashMap::new(),
        };
        Ok(BufferPool { inner: Arc::new(PoolInner { state: Mutex::new(state), clock }) })
    }

    /// Lends a buffer of at least `len` elements: a free one of the size class if there is
    /// one, else a new one (evicting least recently used free buffers to stay within
    /// `max_total_size`).
    pub fn get(&self, len: usize) -> Result<PooledBuffer<T>> {
        let now = self.inner.clock.now();
        let mut s = self.inner.lock();
        if s.closed {
            return Err(StreamError::new(ErrorCode::Closed, "buffer pool is closed"));
        }
        if len == 0 {
            return Err(StreamError::invalid("size", 0, "a positive number of bytes"));
        }
        let max_len = s.config.max_buffer_size / size_of::<T>().max(1);
        if len > max_len {
            return Err(StreamError::new(
                ErrorCode::BufferTooLarge,
                format!("buffer of {len} elements exceeds maxBufferSize ({} bytes)", s.config.max_buffer_size),
            )
            .with_field("size")
            .with_value(len)
            .with_expected(format!("at most {max_len}")));
        }
        s.evict_expired(now);
        let class = size_class(len, max_len);
        let bytes = class * size_of::<T>();

        let reused = s.by_class.get_mut(&class).and_then(BTreeSet::pop_last);
        let (id, data, access_count) = if let Some(key) = reused {
            s.lru.remove(&key);
            let entry = s.free.remove(&key.1).expect("free index and entries agree");
            s.hits += 1;
            s.class_stats(class).hits += 1;
            s.class_stats(class).free -= 1;
            (key.1, entry.data, entry.access_count + 1)
        } else {
            while s.total_bytes + bytes > s.config.max_total_size && s.evict_one() {}
            if s.total_bytes + bytes > s.config.max_total_size {
                return Err(StreamError::new(
                    ErrorCode::MemoryLimit,
                    format!(
                        "pool limit of {} bytes reached: {} bytes are lent out",
                        s.config.max_total_size, s.lent_bytes
                    ),
                ));
            }
            s.misses += 1;
            s.class_stats(class).misses += 1;
            s.total_bytes += bytes;
            let id = s.next_id;
            s.next_id += 1;
            (id, vec![T::default(); class], 1)
        };
        s.lent.insert(id, class);
        s.lent_bytes += bytes;
        s.class_stats(class).active += 1;
        Ok(PooledBuffer { data, id, class, access_count, last_used: now, pool: Arc::downgrade(&self.inner) })
    }

    /// Returns a buffer to the pool (the same as dropping it), then evicts to stay in limits.
    /// A buffer from another pool is refused.
    pub fn put(&self, buffer: PooledBuffer<T>) -> Result<()> {
        if !std::ptr::eq(buffer.pool.as_ptr(), Arc::as_ptr(&self.inner)) {
            return Err(StreamError::invalid("buffer", buffer.id, "a buffer lent by this pool"));
        }
        drop(buffer);
        Ok(())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> PoolStats {
        let now = self.inner.clock.now();
        let mut s = self.inner.lock();
        s.evict_expired(now);
        let mut classes: Vec<ClassStats> = s.classes.values().cloned().collect();
        classes.sort_by_key(|c| c.size);
        #[allow(clippy::cast_precision_loss)]
        let utilization = if s.total_bytes == 0 { 0.0 } else { s.lent_bytes as f64 / s.total_bytes as f64 };
        PoolStats {
            hits: s.hits,
            misses: s.misses,
            evictions: s.evictions,
            total_size: s.total_bytes,
            buffer_count: s.free.len() + s.lent.len(),
            active_buffers: s.lent.len(),
            free_buffers: s.free.len(),
            utilization,
            classes,
        }
    }

    /// Bytes held now, free and lent out.
    pub fn total_size(&self) -> usize {
        self.inner.lock().total_bytes
    }

    /// The configuration in force.
    pub fn config(&self) -> BufferConfig {
        self.inner.lock().config.clone()
    }

    /// Changes the limit; takes effect at once by evicting free buffers, least recently used
    /// first. Lent-out buffers are not taken back; the pool refuses new ones until under it.
    pub fn set_max_total_size(&self, bytes: usize) -> Result<()> {
        if bytes == 0 {
            return Err(StreamError::invalid("maxTotalSize", 0, "a positive number of bytes"));
        }
        let mut s = self.inner.lock();
        s.config.max_total_size = bytes;
        s.config.max_buffer_size = s.config.max_buffer_size.min(bytes);
        while s.total_bytes > bytes && s.evict_one() {}
        Ok(())
    }

    /// Releases free buffers idle for longer than `eviction_timeout` (policy `Time`). Pool
    /// operations do this too; this is for callers that want to trim on a timer.
    pub fn evict_expired(&self) -> usize {
        let now = self.inner.clock.now();
        self.inner.lock().evict_expired(now)
    }

    /// Releases every free buffer and refuses later `get`s. Buffers still lent out are freed
    /// when they come back.
    pub fn close(&self) {
        let mut s = self.inner.lock();
        s.closed = true;
        while s.evict_one() {}
    }

    /// True after `close`.
    pub fn is_closed(&self) -> bool {
        self.inner.lock().closed
    }
}

impl<T> PoolInner<T> {
    fn lock(&self) -> MutexGuard<'_, PoolState<T>> {
        // A panic while holding the lock cannot leave the state half-updated in a way that
        // matters more than losing the pool, so poisoning is ignored.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn release(&self, id: u64, class: usize, access_count: u64, data: Vec<T>) {
        let now = self.clock.now();
        let mut s = self.lock();
        if s.lent.remove(&id).is_none() {
            return;
        }
        let bytes = class * size_of::<T>();
        s.lent_bytes -= bytes;
        s.class_stats(class).active -= 1;
        if s.closed || bytes > s.config.max_buffer_size {
            s.total_bytes -= bytes;
            return;
        }
        let tick = s.next_tick;
        s.next_tick += 1;
        s.free.insert(id, FreeEntry { data, class, access_count, last_used: now });
        s.lru.insert((tick, id));
        s.by_class.entry(class).or_default().insert((tick, id));
        s.class_stats(class).free += 1;
        while s.total_bytes > s.config.max_total_size && s.evict_one() {}
        s.evict_expired(now);
    }
}

impl<T> PoolState<T> {
    fn class_stats(&mut self, class: usize) -> &mut ClassStats {
        let size = class * size_of::<T>();
        self.classes.entry(class).or_insert_with(|| ClassStats { size, ..Default::default() })
    }

    /// Evicts the least recently used free buffer; false when there is none.
    fn evict_one(&mut self) -> bool {
        let Some(key) = self.lru.pop_first() else { return false };
        let entry = self.free.remove(&key.1).expect("free index and entries agree");
        if let Some(set) = self.by_class.get_mut(&entry.class) {
            set.remove(&key);
        }
        self.total_bytes -= entry.class * size_of::<T>();
        self.evictions += 1;
        let stats = self.class_stats(entry.class);
        stats.free -= 1;
        stats.evictions += 1;
        true
    }

    fn evict_expired(&mut self, now: Duration) -> usize {
        if self.config.eviction_policy != EvictionPolicy::Time {
            return 0;
        }
        let timeout = self.config.eviction_timeout;
        let mut evicted = 0;
        while let Some(&(_, id)) = self.lru.first() {
            let idle = now.saturating_sub(self.free[&id].last_used);
            if idle < timeout {
                break;
            }
            self.evict_one();
            evicted += 1;
        }
        evicted
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::clock::ManualClock;

    fn pool_with(config: BufferConfig) -> (BufferPool, Arc<ManualClock>) {
        let clock = ManualClock::new();
        (BufferPool::with_clock(config, clock.clone()).unwrap(), clock)
    }

    #[test]
    fn size_classes_have_bounded_slack_and_respect_the_maximum() {
        assert_eq!(size_class(1, 1 << 20), 256);
        assert_eq!(size_class(1000, 1 << 20), 1024);
        assert_eq!(size_class(1025, 1 << 20), 1280);
        assert_eq!(size_class((1 << 20) + 16, 2 << 20), 1280 * 1024);
        assert_eq!(size_class(1 << 20, 1 << 20), 1 << 20);
        assert_eq!(size_class(1000, 900), 1000);
        for len in (1..200_000).step_by(997) {
            let c = size_class(len, usize::MAX);
            assert!(c >= len && (c <= 256 || c * 4 <= len * 5 + 4 * 256), "{len} -> {c}");
        }
    }

    #[test]
    fn a_returned_buffer_comes_back_cleared() {
        let (pool, _) = pool_with(BufferConfig::default());
        let mut a = pool.get(1000).unwrap();
        a.fill(0xA5);
        let id = a.id();
        pool.put(a).unwrap();
        let b = pool.get(1000).unwrap();
        assert_eq!(b.id(), id, "the same buffer");
        assert!(b.iter().all(|&x| x == 0), "what it held is gone");
    }

    #[test]
    fn reuses_a_free_buffer_of_the_same_class_and_counts_hits_and_misses() {
        let (pool, _) = pool_with(BufferConfig::default());
        let a = pool.get(1000).unwrap();
        assert_eq!(a.len(), 1024);
        let id = a.id();
        pool.put(a).unwrap();
        let b = pool.get(900).unwrap();
        assert_eq!(b.id(), id, "same class reuses the free buffer");
        assert_eq!(b.access_count(), 2);
        let c = pool.get(5000).unwrap();
        assert_ne!(c.id(), id);
        let s = pool.stats();
        assert_eq!((s.hits, s.misses), (1, 2));
        assert_eq!(s.active_buffers, 2);
        assert_eq!(s.total_size, 1024 + 5120);
        assert!((s.utilization - 1.0).abs() < 1e-9);
        let class = s.classes.iter().find(|c| c.size == 1024).unwrap();
        assert_eq!((class.hits, class.misses, class.active), (1, 1, 1));
        drop(b);
        drop(c);
        let s = pool.stats();
        assert_eq!((s.active_buffers, s.free_buffers, s.buffer_count), (0, 2, 2));
        assert_eq!(s.utilization, 0.0);
    }

    #[test]
    fn evicts_least_recently_used_free_buffers_to_stay_within_the_limit() {
        let (pool, _) = pool_with(BufferConfig { max_total_size: 4096, max_buffer_size: 2048, ..Default::default() });
        let a = pool.get(1024).unwrap();
        let b = pool.get(1024).unwrap();
        let c = pool.get(2048).unwrap();
        let (ida, idb) = (a.id(), b.id());
        drop(a); // a is now the least recently used free buffer
        drop(b);
        drop(c);
        assert_eq!(pool.total_size(), 4096);
        let d = pool.get(1280).unwrap(); // new class: needs 1280 bytes, evicts a then b
        assert_eq!(pool.stats().evictions, 2);
        assert_eq!(pool.total_size(), 2048 + 1280);
        drop(d);
        let again = pool.get(1024).unwrap();
        assert!(again.id() != ida && again.id() != idb, "evicted buffers are gone");
    }

    #[test]
    fn refuses_past_the_limit_when_everything_is_lent_out() {
        let (pool, _) = pool_with(BufferConfig { max_total_size: 2048, max_buffer_size: 2048, ..Default::default() });
        let _a = pool.get(2048).unwrap();
        let e = pool.get(256).unwrap_err();
        assert_eq!(e.code(), ErrorCode::MemoryLimit);
    }

    #[test]
    fn time_policy_evicts_buffers_idle_past_the_timeout() {
        let (pool, clock) = pool_with(BufferConfig {
            eviction_policy: EvictionPolicy::Time,
            eviction_timeout: Duration::from_secs(10),
            ..Default::default()
        });
        drop(pool.get(1000).unwrap());
        clock.advance(Duration::from_secs(6));
        drop(pool.get(3000).unwrap());
        clock.advance(Duration::from_secs(5)); // first idle 11 s, second 5 s
        assert_eq!(pool.evict_expired(), 1);
        let s = pool.stats();
        assert_eq!((s.free_buffers, s.evictions, s.total_size), (1, 1, 3072));
        clock.advance(Duration::from_secs(5));
        assert_eq!(pool.stats().free_buffers, 0, "stats also trims idle buffers");

        let (lru, clock) = pool_with(BufferConfig { eviction_timeout: Duration::from_secs(1), ..Default::default() });
        drop(lru.get(1000).unwrap());
        clock.advance(Duration::from_secs(100));
        assert_eq!(lru.evict_expired(), 0, "the lru policy keeps idle buffers");
    }

    #[test]
    fn set_max_total_size_evicts_at_once() {
        let (pool, _) = pool_with(BufferConfig::default());
        let bufs: Vec<_> = (0..4).map(|_| pool.get(4096).unwrap()).collect();
        drop(bufs);
        assert_eq!(pool.total_size(), 4 * 4096);
        pool.set_max_total_size(8192).unwrap();
        assert_eq!(pool.total_size(), 8192);
        assert_eq!(pool.stats().evictions, 2);
        assert_eq!(pool.set_max_total_size(0).unwrap_err().code(), ErrorCode::InvalidArgument);
    }

    #[test]
    fn bad_sizes_and_closed_pools_give_typed_errors() {
        let (pool, _) = pool_with(BufferConfig::default());
        assert_eq!(pool.get(0).unwrap_err().code(), ErrorCode::InvalidArgument);
        assert_eq!(pool.get((1 << 20) + 1).unwrap_err().code(), ErrorCode::BufferTooLarge);
        let lent = pool.get(100).unwrap();
        drop(pool.get(100).unwrap());
        pool.close();
        assert!(pool.is_closed());
        assert_eq!(pool.get(100).unwrap_err().code(), ErrorCode::Closed);
        assert_eq!(pool.total_size(), 256, "only the lent buffer is still counted");
        drop(lent);
        assert_eq!(pool.total_size(), 0);
    }

    #[test]
    fn refuses_buffers_of_another_pool() {
        let (a, _) = pool_with(BufferConfig::default());
        let (b, _) = pool_with(BufferConfig::default());
        let buf = a.get(10).unwrap();
        assert_eq!(b.put(buf).unwrap_err().code(), ErrorCode::InvalidArgument);
        assert_eq!(a.stats().free_buffers, 1, "the refused buffer went home when dropped");
    }

    #[test]
    fn is_generic_over_element_types_and_shareable_between_threads() {
        let pool: BufferPool<u32> = BufferPool::with_clock(BufferConfig::default(), ManualClock::new()).unwrap();
        let buf = pool.get(300).unwrap();
        assert_eq!(buf.len(), 320);
        assert_eq!(pool.total_size(), 320 * 4);
        drop(buf);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    for i in 1..200 {
                        let mut b = pool.get(i * 10).unwrap();
                        b[0] = 7;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = pool.stats();
        assert_eq!(s.active_buffers, 0);
        assert_eq!(s.hits + s.misses, 1 + 4 * 199);
        fn assert_send_sync<X: Send + Sync>() {}
        assert_send_sync::<BufferPool<u8>>();
        assert_send_sync::<PooledBuffer<u8>>();
    }
}
